import { useEffect, useRef, useState } from "react";
import { getJson, qs, type RunEvent, type RunEventsResponse } from "../api";

export type { RunEvent };

/** Metric series by name: steps and values. */
export type MetricSeries = Record<string, { x: number[]; y: number[] }>;

/**
 * A run's metric events, kept live: first everything so far, then new events as the run writes them — over
 * Server-Sent Events (the server polls the registry with afterId), falling back to polling when SSE fails.
 */
export function useLiveMetrics(runId: string, live: boolean): { series: MetricSeries; lastId: number; error: Error | null } {
  const [series, setSeries] = useState<MetricSeries>({});
  const [error, setError] = useState<Error | null>(null);
  const lastId = useRef(0);
  const loadedFor = useRef<string | null>(null);
  const [, bump] = useState(0);

  useEffect(() => {
    if (!runId) return;
    let closed = false;
    let source: EventSource | null = null;
    let timer: ReturnType<typeof setTimeout> | null = null;
    // A new run starts from nothing; the same run going live (or ending) continues after the last event seen.
    if (loadedFor.current !== runId) {
      loadedFor.current = runId;
      lastId.current = 0;
      setSeries({});
    }
    const add = (events: RunEvent[]) => {
      if (events.length === 0) return;
      lastId.current = Math.max(lastId.current, events[events.length - 1].id);
      setSeries((prev) => {
        const next: MetricSeries = { ...prev };
        for (const e of events) {
          if (e.type !== "metric" || e.name === null || e.value === null || e.step === null) continue;
          const s = next[e.name] ? { x: [...next[e.name].x], y: [...next[e.name].y] } : { x: [], y: [] };
          s.x.push(e.step);
          s.y.push(e.value);
          next[e.name] = s;
        }
        return next;
      });
      bump((n) => n + 1);
    };
    const poll = async () => {
      if (closed) return;
      try {
        const r = await getJson<RunEventsResponse>(`/api/runs/${runId}/events${qs({ type: "metric", afterId: lastId.current })}`);
        add(r.events);
      } catch (e) {
        setError(e as Error);
      }
      if (live && !closed) timer = setTimeout(poll, 1000);
    };
    (async () => {
      try {
        const first = await getJson<RunEventsResponse>(`/api/runs/${runId}/events${qs({ type: "metric", afterId: lastId.current, limit: 50000 })}`);
        if (closed) return;
        add(first.events);
      } catch (e) {
        setError(e as Error);
      }
      if (!live || closed) return;
      if (typeof EventSource === "undefined") return void poll();
      source = new EventSource(`/api/runs/${runId}/stream${qs({ type: "metric", afterId: lastId.current })}`);
      source.addEventListener("events", (m) => add(JSON.parse((m as MessageEvent).data) as RunEvent[]));
      source.onerror = () => {
        source?.close();
        source = null;
        if (!closed) timer = setTimeout(poll, 1000);
      };
    })();
    return () => {
      closed = true;
      source?.close();
      if (timer) clearTimeout(timer);
    };
  }, [runId, live]);

  return { series, lastId: lastId.current, error };
}
