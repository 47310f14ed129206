/** Things worth counting: the Lambda turns them into metrics, the CLI into a line of output. */
export type DocuSignClientEvent =
  | { readonly type: "retry"; readonly request: string; readonly reason: string; readonly delayMs: number }
  | { readonly type: "throttled"; readonly request: string }
  | { readonly type: "auth-failure"; readonly request: string; readonly reason: string }
  | { readonly type: "token"; readonly expiresInSeconds: number };
