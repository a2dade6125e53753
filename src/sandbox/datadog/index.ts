export { startDatadogEmulator } from './emulator.js';
export type { DatadogEmulator, DatadogEmulatorOptions, DatadogWrite } from './emulator.js';
export type { MonitorSeed, MonitorOverallState } from './monitors.js';
export type { DowntimeSeed } from './downtimes.js';
export type { EventSeed } from './events.js';
export type { IncidentSeed } from './incidents.js';
export type { ServiceDefinitionSeed } from './service-definitions.js';
