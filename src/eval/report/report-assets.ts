import { ESCAPE_HTML_SCRIPT } from "../../report/index.js";

/** Inline CSS and the vanilla-JS example table of the HTML report (no CDN, works offline from a file). */
export const REPORT_CSS = `
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px auto;max-width:1400px;padding:0 16px;color:#111}
h1{font-size:22px}h2{font-size:18px;margin-top:28px;border-bottom:1px solid #ddd;padding-bottom:4px}
.muted{color:#6b7280}.scroll{overflow:auto;max-height:80vh}
table{border-collapse:collapse}th,td{border:1px solid #e5e7eb;padding:4px 6px;vertical-align:top;text-align:left}
table.summary td{white-space:nowrap}.charts{display:flex;flex-wrap:wrap;gap:16px}figure.chart{margin:0}
figcaption{font-weight:600;margin-bottom:4px}svg text{font-size:12px}
table.confusion td{min-width:18px;text-align:center;font-size:11px}table.confusion th{font-size:11px}
th.rot{height:120px;white-space:nowrap;vertical-align:bottom}th.rot span{writing-mode:vertical-rl;transform:rotate(180deg)}
#examples td{max-width:360px;white-space:pre-wrap;word-break:break-word}
td.ok{background:#f0fdf4}td.bad{background:#fef2f2}td.err{background:#fff7ed;color:#9a3412}
.warn{color:#9a3412}span.trunc{display:inline-block;margin-left:4px;padding:0 4px;border-radius:3px;background:#fde68a;color:#78350f;font-size:11px}
ins{background:#bbf7d0;text-decoration:none}del{background:#fecaca}.filters{margin:8px 0;display:flex;gap:12px;align-items:center;flex-wrap:wrap}
`;

export const EXAMPLE_TABLE_SCRIPT = `
(function(){
  var data = JSON.parse(document.getElementById('data').textContent);
  var tbody = document.querySelector('#examples tbody');
  ${ESCAPE_HTML_SCRIPT}
  function cell(c){
    if (c.error) return '<td class="err">failed: '+esc(c.error)+'</td>';
    var cls = c.score===null ? '' : (c.score>=0.5 ? 'ok' : 'bad');
    var body = c.diff ? c.diff.map(function(p){return p.op==='same'?esc(p.text):p.op==='add'?'<ins>'+esc(p.text)+'</ins>':'<del>'+esc(p.text)+'</del>';}).join('') : esc(c.output);
    var flag = c.truncated ? '<span class="trunc" title="hit maxTokens: the answer is cut off">truncated</span>' : '';
    return '<td class="'+cls+'" title="'+esc(data.primary)+': '+(c.score===null?'–':c.score)+'">'+body+flag+'</td>';
  }
  function render(){
    var q = document.getElementById('q').value.toLowerCase();
    var dis = document.getElementById('disagree').checked;
    var fail = document.getElementById('failed').checked;
    var trunc = document.getElementById('truncated').checked;
    var wrong = document.getElementById('wrong').value;
    var html = [], n = 0;
    data.rows.forEach(function(r){
      if (q){ var hay=(r.input+' '+(r.reference||'')+' '+r.c.map(function(c){return c.output||'';}).join(' ')).toLowerCase(); if (hay.indexOf(q)<0) return; }
      if (dis){ var outs=r.c.map(function(c){return (c.output||'').trim();}); if (outs.every(function(o){return o===outs[0];})) return; }
      if (fail && !r.c.some(function(c){return c.error;})) return;
      if (trunc && !r.c.some(function(c){return c.truncated;})) return;
      if (wrong!=='' && !(r.c[+wrong].score!==null && r.c[+wrong].score<0.5)) return;
      n++;
      html.push('<tr><td>'+esc(r.id)+'</td><td>'+esc(r.input)+'</td><td>'+esc(r.reference)+'</td>'+r.c.map(cell).join('')+'</tr>');
    });
    tbody.innerHTML = html.join('');
    document.getElementById('count').textContent = n+' of '+data.rows.length+' examples';
  }
  ['q','disagree','failed','truncated','wrong'].forEach(function(id){document.getElementById(id).addEventListener('input',render);document.getElementById(id).addEventListener('change',render);});
  render();
})();
`;
