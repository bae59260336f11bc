import type { RegistryDb } from "./database.js";
import { DatasetStore } from "./datasets.js";
import { ModelStore } from "./models.js";
import { RunStore } from "./runs.js";

/**
 * The registry: one object over one database handle. Callers see typed methods only; the SQL dialect is the
 * database module's business, so a PostgreSQL backend plugs in by handing a different Kysely instance here.
 */
export class Registry {
  readonly runs: RunStore;
  readonly datasets: DatasetStore;
  readonly models: ModelStore;

  constructor(readonly db: RegistryDb) {
    this.runs = new RunStore(db);
    this.datasets = new DatasetStore(db);
    this.models = new ModelStore(db);
  }

  // Flat aliases for the most used calls.
  createRun: RunStore["createRun"] = (input) => this.runs.createRun(input);
  getRun: RunStore["getRun"] = (id) => this.runs.getRun(id);
  listRuns: RunStore["listRuns"] = (filter) => this.runs.listRuns(filter);
  transitionRun: RunStore["transitionRun"] = (id, to, extra) => this.runs.transitionRun(id, to, extra);
  resumeRunFrom: RunStore["resumeRunFrom"] = (id, fromStep, owner) => this.runs.resumeRunFrom(id, fromStep, owner);
  updateRun: RunStore["updateRun"] = (id, patch) => this.runs.updateRun(id, patch);
  appendRunEvents: RunStore["appendRunEvents"] = (id, events) => this.runs.appendRunEvents(id, events);
  listRunEvents: RunStore["listRunEvents"] = (id, filter) => this.runs.listRunEvents(id, filter);
  createDataset: DatasetStore["createDataset"] = (input) => this.datasets.createDataset(input);
  getDataset: DatasetStore["getDataset"] = (name) => this.datasets.getDataset(name);
  findDataset: DatasetStore["findDataset"] = (name) => this.datasets.findDataset(name);
  listDatasets: DatasetStore["listDatasets"] = () => this.datasets.listDatasets();
  addDatasetVersion: DatasetStore["addDatasetVersion"] = (input) => this.datasets.addDatasetVersion(input);
  getDatasetVersion: DatasetStore["getDatasetVersion"] = (id) => this.datasets.getDatasetVersion(id);
  resolveDatasetVersion: DatasetStore["resolveDatasetVersion"] = (ref) => this.datasets.resolveDatasetVersion(ref);
  listDatasetVersions: DatasetStore["listDatasetVersions"] = (id) => this.datasets.listDatasetVersions(id);
  createModel: ModelStore["createModel"] = (input) => this.models.createModel(input);
  getModel: ModelStore["getModel"] = (ref) => this.models.getModel(ref);
  listModels: ModelStore["listModels"] = () => this.models.listModels();

  async close(): Promise<void> {
    await this.db.destroy();
  }
}
