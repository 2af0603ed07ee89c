// The parts of the REST API's job view (GET /jobs/:jobid) benchmarks read.

export interface SubtaskDetails {
  subtask: number;
  status: string;
  'taskmanager-id': string | null;
  /** Epoch milliseconds at which the subtask entered each state. */
  timestamps: Partial<Record<string, number>>;
  metrics: Record<string, number>;
}

export interface VertexDetails {
  id: string;
  name: string;
  parallelism: number;
  metrics: Record<string, number>;
  subtasks: SubtaskDetails[];
}

export interface JobDetails {
  jid: string;
  name: string;
  state: string;
  vertices: VertexDetails[];
}
