import type { DriverDefinition } from './driver-types.js';

/**
 * Identity helper that types a driver written in TypeScript. Most drivers are
 * plain JSON files named in package.json; this is for tests and generated ones.
 * The host validates the result like any JSON driver.
 */
export function defineDriver(definition: DriverDefinition): DriverDefinition {
  return definition;
}
