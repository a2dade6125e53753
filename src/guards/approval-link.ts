/** Where the approval page lives on the HTTP server. */
export const APPROVALS_PATH = '/approvals';

/** The policy channel of a decision made on the page; a rule must list it to accept one. */
export const PAGE_CHANNEL = 'http';

/** The page's address of one request, from the address people reach the server at (http.public_url). */
export function approvalPageUrl(publicUrl: string, id: string): string {
  return new URL(`${APPROVALS_PATH}/${id}`, publicUrl).href;
}
