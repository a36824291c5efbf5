/** Where a receiver writes its log lines (Nest: a `Logger` with the module's context; the CLI: its console). */
export interface ScalekitReceiverLogger {
  log(message: string): void;
  warn(message: string): void;
  error(message: string, stack?: string): void;
  debug(message: string): void;
}
