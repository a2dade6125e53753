import type { BacklogSource } from '../item.js';
import { accessSource } from './access.js';
import { costSource } from './cost.js';
import { credentialsSource } from './credentials.js';
import { databaseSource } from './database.js';
import { driftSource } from './drift.js';
import { imagesSource } from './images.js';
import { versionsSource } from './versions.js';

/** The sources day2_backlog and day2://backlog use; append to add one. */
export const defaultBacklogSources: readonly BacklogSource[] = [
  credentialsSource,
  driftSource,
  versionsSource,
  imagesSource,
  costSource,
  accessSource,
  databaseSource,
];

export {
  accessSource,
  costSource,
  credentialsSource,
  databaseSource,
  driftSource,
  imagesSource,
  versionsSource,
};
