// Scenarios: timed effects on the simulated cloud, the drills' script (PB-12).
export { type AppliedEvent, type ApplyOptions, applyScenario, type ScenarioRun } from './scenario-applier.ts';
export {
  type BuiltinScenarioInfo,
  listBuiltinScenarios,
  loadScenario,
  parseScenario,
  ScenarioError,
  type ScenarioIssue,
} from './scenario-loader.ts';
export {
  type Effect,
  EXPECT_CHECKS,
  type Expectation,
  type ExpectCheck,
  type Scenario,
  type ScenarioEvent,
} from './scenario-schema.ts';
