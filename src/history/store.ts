// The interface lives with the hub that needs it (hub/history.ts); stores import it from here too.
export type { HistoryStore, ReplayResult } from '../hub/history'
