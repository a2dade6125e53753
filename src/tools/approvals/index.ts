import { getApproval } from './get-approval.js';
import { searchAudit } from './search-audit.js';

/** Built-in tools of the approval flow and the audit log. None of them can approve anything. */
export const approvalTools = [getApproval, searchAudit];
