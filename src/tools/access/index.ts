import type { AnyTool } from '../../contract/define-tool.js';
import { accessReview } from './access-review.js';
import { grantAccess } from './grant-access.js';
import { listAccessGrants } from './list-access-grants.js';
import { revokeAccess } from './revoke-access.js';

/** The access toolset: time-bound grants, revocation, inventory and review. */
export const accessTools: readonly AnyTool[] = [grantAccess, revokeAccess, listAccessGrants, accessReview];

export { grantAccess, revokeAccess, listAccessGrants, accessReview };
