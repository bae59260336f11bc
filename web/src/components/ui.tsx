import type { ReactNode } from "react";
import { ApiError } from "../api";

export function ErrorBox({ error }: { error: Error | null }) {
  if (!error) return null;
  return (
    <div className="error" role="alert">
      <strong>{error instanceof ApiError ? error.code : "error"}</strong>: {error.message}
      {error instanceof ApiError && error.fix ? <div className="fix">fix: {error.fix}</div> : null}
    </div>
  );
}

export function Card(props: { title: ReactNode; children: ReactNode; actions?: ReactNode; testId?: string }) {
  return (
    <section className="card" data-testid={props.testId}>
      <header>
        <h2>{props.title}</h2>
        <div className="actions">{props.actions}</div>
      </header>
      {props.children}
    </section>
  );
}

export function Status({ status }: { status: string }) {
  return <span className={`status status-${status}`}>{status}</span>;
}

export const fmtNum = (v: number | null | undefined, digits = 3) => (v === null || v === undefined ? "—" : Number.isInteger(v) ? v.toLocaleString("en-US") : v.toFixed(digits));
export const fmtUsd = (v: number | null | undefined) => (v === null || v === undefined ? "—" : v >= 100 ? `$${Math.round(v).toLocaleString("en-US")}` : `$${v.toFixed(v < 1 ? 4 : 2)}`);
export const fmtPct = (v: number | null | undefined) => (v === null || v === undefined ? "—" : `${(v * 100).toFixed(1)}%`);
export const fmtTime = (iso: string | number | null | undefined) => (iso === null || iso === undefined ? "—" : new Date(iso).toLocaleString("en-GB", { dateStyle: "short", timeStyle: "short" }));
