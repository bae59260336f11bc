import pc from "picocolors";

export interface Column<T> {
  key: string;
  header: string;
  value?: (row: T) => unknown;
  align?: "left" | "right";
  color?: (text: string, row: T) => string;
}

export interface ProgressHandle {
  tick(done: number, fields?: Record<string, string | number>): void;
  done(message?: string): void;
}

export interface OutputOptions {
  json: boolean;
  color: boolean;
  stdout?: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  stderr?: NodeJS.WritableStream & { isTTY?: boolean };
}

/**
 * Where commands write. With --json, stdout carries exactly one JSON document and human text goes nowhere;
 * without it, text and tables go to stdout (coloured only on a terminal) and progress to stderr.
 */
export class Output {
  readonly json: boolean;
  readonly color: boolean;
  private readonly stdout: NonNullable<OutputOptions["stdout"]>;
  private readonly stderr: NonNullable<OutputOptions["stderr"]>;
  private jsonWritten = false;

  constructor(options: OutputOptions) {
    this.json = options.json;
    this.stdout = options.stdout ?? process.stdout;
    this.stderr = options.stderr ?? process.stderr;
    this.color = options.color && Boolean(this.stdout.isTTY);
  }

  get colors() {
    return pc.createColors(this.color);
  }

  text(line = ""): void {
    if (!this.json) this.stdout.write(`${line}\n`);
  }

  /** Printed only in --json mode: the command's whole machine-readable result. */
  data(value: unknown): void {
    if (!this.json) return;
    if (this.jsonWritten) throw new Error("a command printed two JSON documents; it must print exactly one");
    this.jsonWritten = true;
    this.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  /** Warnings and notes for people: stderr, so piped output stays clean. */
  note(line: string): void {
    if (!this.json) this.stderr.write(`${line}\n`);
  }

  table<T>(rows: readonly T[], columns: readonly Column<T>[]): void {
    if (this.json) return;
    this.stdout.write(renderTable(rows, columns, this.colors));
  }

  /** A progress bar on a terminal (stderr); periodic plain lines when piped. */
  progress(options: { total: number; label: string }): ProgressHandle {
    const tty = Boolean(this.stderr.isTTY) && !this.json;
    const started = Date.now();
    let lastPlain = 0;
    const c = this.colors;
    const render = (done: number, fields: Record<string, string | number> = {}) => {
      const frac = options.total > 0 ? Math.min(1, done / options.total) : 0;
      const extra = Object.entries(fields).map(([k, v]) => `${k} ${v}`).join("  ");
      const elapsed = (Date.now() - started) / 1000;
      const eta = frac > 0 ? (elapsed * (1 - frac)) / frac : 0;
      const width = 24;
      const filled = Math.round(frac * width);
      const bar = `${"█".repeat(filled)}${"░".repeat(width - filled)}`;
      return `${options.label} ${c.cyan(bar)} ${done}/${options.total} ${(frac * 100).toFixed(0)}%  ${extra}  eta ${formatDuration(eta)}`;
    };
    return {
      tick: (done, fields) => {
        if (this.json) return;
        if (tty) this.stderr.write(`\r\x1b[2K${render(done, fields)}`);
        else if (Date.now() - lastPlain > 2000 || done >= options.total) {
          lastPlain = Date.now();
          this.stderr.write(`${render(done, fields)}\n`);
        }
      },
      done: (message) => {
        if (this.json) return;
        if (tty) this.stderr.write("\r\x1b[2K");
        if (message) this.stderr.write(`${message}\n`);
      },
    };
  }
}

/**
 * A reader that goes away (`tunekit runs show RUN | head -1`) closes the pipe, and the next write fails with
 * EPIPE, which Node raises as an unhandled 'error' event: a stack trace and status 1. Nobody is reading any more,
 * so end quietly, as Unix tools do on SIGPIPE — with the status the command had reached (0 unless it had already
 * failed), so `set -o pipefail` scripts piping into head keep working. Installed once, for every command.
 */
export function exitQuietlyOnClosedPipe(streams: NodeJS.WriteStream[] = [process.stdout, process.stderr]): void {
  for (const stream of streams) {
    stream.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code !== "EPIPE") throw error;
      process.exit(typeof process.exitCode === "number" ? process.exitCode : 0);
    });
  }
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "?";
  if (seconds < 60) return `${Math.round(seconds)}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${String(Math.round(seconds % 60)).padStart(2, "0")}s`;
  return `${Math.floor(seconds / 3600)}h${String(Math.floor((seconds % 3600) / 60)).padStart(2, "0")}m`;
}

const ANSI = /\x1b\[[0-9;]*m/g;
const visibleLength = (s: string) => s.replace(ANSI, "").length;

export function renderTable<T>(rows: readonly T[], columns: readonly Column<T>[], colors = pc.createColors(false)): string {
  const cells = rows.map((row) =>
    columns.map((col) => {
      const raw = col.value ? col.value(row) : (row as Record<string, unknown>)[col.key];
      return raw === null || raw === undefined ? "" : String(raw);
    }),
  );
  const widths = columns.map((col, i) => Math.max(col.header.length, ...cells.map((r) => visibleLength(r[i]))));
  const pad = (text: string, i: number) => {
    const gap = " ".repeat(Math.max(0, widths[i] - visibleLength(text)));
    return columns[i].align === "right" ? gap + text : text + gap;
  };
  const lines = [columns.map((c, i) => colors.bold(pad(c.header, i))).join("  ").trimEnd()];
  rows.forEach((row, r) => {
    lines.push(
      columns
        .map((col, i) => {
          const text = pad(cells[r][i], i);
          return col.color ? col.color(text, row) : text;
        })
        .join("  ")
        .trimEnd(),
    );
  });
  if (rows.length === 0) lines.push(colors.dim("(none)"));
  return `${lines.join("\n")}\n`;
}
