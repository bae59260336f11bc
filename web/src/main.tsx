import { StrictMode, useEffect, useState } from "react";
import { createRoot } from "react-dom/client";
import { CostPage } from "./pages/cost-page";
import { DatasetPage, DatasetsPage } from "./pages/datasets-page";
import { EvalsPage } from "./pages/evals-page";
import { ExperimentsPage } from "./pages/experiments-page";
import { RunComparePage } from "./pages/run-compare-page";
import { RunDetailPage } from "./pages/run-detail-page";
import { RunsPage } from "./pages/runs-page";
import "./styles.css";

/** Hash routes (#/runs/run_…): the server serves one index.html and needs no route table. */
function useHashRoute(): { path: string[]; query: URLSearchParams } {
  const read = () => {
    const [p, q] = window.location.hash.replace(/^#\/?/, "").split("?");
    return { path: p.split("/").filter(Boolean).map(decodeURIComponent), query: new URLSearchParams(q ?? "") };
  };
  const [route, setRoute] = useState(read);
  useEffect(() => {
    const on = () => setRoute(read());
    window.addEventListener("hashchange", on);
    return () => window.removeEventListener("hashchange", on);
  }, []);
  return route;
}

const NAV = [
  ["datasets", "Datasets"],
  ["runs", "Runs"],
  ["evals", "Evaluations"],
  ["experiments", "Experiments"],
  ["cost", "Cost"],
] as const;

function App() {
  const { path, query } = useHashRoute();
  const section = path[0] ?? "datasets";
  let page;
  if (section === "datasets") page = path[1] ? <DatasetPage name={path[1]} version={query.get("v")} /> : <DatasetsPage />;
  else if (section === "runs") page = path[1] ? <RunDetailPage id={path[1]} /> : <RunsPage />;
  else if (section === "compare") page = <RunComparePage a={query.get("a")} b={query.get("b")} />;
  else if (section === "evals") page = <EvalsPage id={path[1] ?? null} />;
  else if (section === "experiments") page = <ExperimentsPage />;
  else if (section === "cost") page = <CostPage />;
  else page = <p>Unknown page. Pick one above.</p>;
  return (
    <>
      <nav className="top">
        <a className="brand" href="#/datasets">tunekit</a>
        {NAV.map(([key, label]) => (
          <a key={key} href={`#/${key}`} className={section === key || (key === "runs" && section === "compare") ? "active" : ""}>{label}</a>
        ))}
      </nav>
      <main>{page}</main>
    </>
  );
}

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
