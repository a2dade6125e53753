/** A domain error a model can act on: it becomes an `isError` result with the message as written. */
export class ToolError extends Error {
  constructor(
    message: string,
    readonly code: string = 'tool_error',
    readonly field?: string,
  ) {
    super(message);
    this.name = 'ToolError';
  }
}
