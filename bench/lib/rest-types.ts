// The parts of the REST API's job view (GET /jobs/:jobid) and checkpoint statistics
// (GET /jobs/:jobid/checkpoints) benchmarks read.

export interface SubtaskDetails {
  subtask: number;
  status: string;
  attempt: number;
  'taskmanager-id': string | null;
  /** Epoch milliseconds at which the subtask entered each state. */
  timestamps: Partial<Record<string, number>>;
  metrics: Record<string, number>;
}

export interface VertexDetails {
  id: string;
  name: string;
  parallelism: number;
  status: string;
  operators: { id: string; name: string }[];
  /** Numbers, except the sink lags, which are null without samples. */
  metrics: Record<string, number>;
  subtasks: SubtaskDetails[];
}

export interface JobDetails {
  jid: string;
  name: string;
  state: string;
  vertices: VertexDetails[];
}

/** One checkpoint of GET /jobs/:jobid/checkpoints (Flink's CheckpointStatistics, Weir's extras). */
export interface CheckpointStatistics {
  id: number;
  status: 'IN_PROGRESS' | 'COMPLETED' | 'FAILED';
  trigger_timestamp: number;
  latest_ack_timestamp: number;
  state_size: number;
  end_to_end_duration: number;
  processed_data: number;
  num_subtasks: number;
  num_acknowledged_subtasks: number;
  /** Slowest subtask's times, milliseconds. */
  alignment_duration: number;
  sync_duration: number;
  async_duration: number;
  failure_message?: string | null;
}

export interface CheckpointingStatistics {
  counts: { restored: number; total: number; in_progress: number; completed: number; failed: number };
  latest: {
    completed: CheckpointStatistics | null;
    savepoint: CheckpointStatistics | null;
    failed: CheckpointStatistics | null;
    restored: { id: number; restore_timestamp: number } | null;
  };
  /** Newest first, the last web.checkpoints.history of them. */
  history: CheckpointStatistics[];
}
