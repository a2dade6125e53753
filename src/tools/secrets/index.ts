import { listCredentials } from './list-credentials.js';
import { rotateCredential } from './rotate-credential.js';
import { getRotationTool } from './get-rotation.js';

/** Credentials: the inventory, governed rotation, and where a rotation stands. */
export const secretTools = [listCredentials, rotateCredential, getRotationTool];
