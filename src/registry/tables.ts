import type { Generated } from "kysely";

/**
 * Row shapes as stored. JSON columns are TEXT (portable between SQLite and PostgreSQL); timestamps are ISO-8601
 * strings in UTC, which sort correctly as text on both backends.
 */
export interface DatasetsTable {
  id: string;
  name: string;
  description: string;
  created_at: string;
}

export interface DatasetVersionsTable {
  id: string;
  dataset_id: string;
  number: number;
  sha256: string;
  parent_id: string | null;
  transform: string;
  params: string;
  record_count: number;
  stats: string | null;
  report: string | null;
  artifact_id: string;
  created_at: string;
}

export interface RunsTable {
  id: string;
  kind: string;
  name: string | null;
  status: string;
  config: string;
  backend: string | null;
  dataset_version_id: string | null;
  parent_run_id: string | null;
  model_id: string | null;
  result: string | null;
  error: string | null;
  cost_usd: number | null;
  created_at: string;
  started_at: string | null;
  ended_at: string | null;
  updated_at: string;
  /** JSON RunOwner while a process owns the run (migration 0002). */
  owner: string | null;
}

export interface RunEventsTable {
  id: Generated<number>;
  run_id: string;
  ts: string;
  type: string;
  step: number | null;
  name: string | null;
  value: number | null;
  data: string | null;
  /** Id of the resume's status event that superseded this event (migration 0002). */
  superseded_by: number | null;
}

export interface ArtifactsTable {
  id: string;
  sha256: string;
  kind: string;
  path: string;
  size: number;
  run_id: string | null;
  meta: string | null;
  created_at: string;
}

export interface ModelsTable {
  id: string;
  name: string;
  kind: string;
  provider: string;
  path: string | null;
  provider_model_id: string | null;
  base_model_id: string | null;
  run_id: string | null;
  dataset_version_id: string | null;
  meta: string | null;
  created_at: string;
}

export interface RegistryDatabase {
  datasets: DatasetsTable;
  dataset_versions: DatasetVersionsTable;
  runs: RunsTable;
  run_events: RunEventsTable;
  artifacts: ArtifactsTable;
  models: ModelsTable;
}
