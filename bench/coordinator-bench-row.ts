// One row of the coordinator bench table (shared by its parts).
export interface CoordinatorBenchRow {
  readonly name: string;
  readonly records: number;
  readonly seconds: number;
  readonly perSecond: number;
  readonly note: string;
}
