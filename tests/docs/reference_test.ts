/**
 * The configuration reference (docs/config-reference.md) is generated from the schemas; these
 * tests fail when it is stale or when a schema key, action, condition or monitoring key has no
 * description.
 */
import { assertEquals } from "../_assert.ts";
import { ROOT } from "../_helpers.ts";
import { renderReference } from "../../tools/gen_config_reference.ts";
import { projectDocs, projectSchema } from "../../lib/config/schema/project.ts";
import { slurmDocs, slurmSchema } from "../../lib/config/schema/slurm.ts";
import {
  backendDocs,
  backendSchema,
  containerDocs,
  containerSchema,
} from "../../lib/config/schema/backend.ts";
import {
  ACTION_KEYS,
  actionDocs,
  CONDITION_KEYS,
  conditionDocs,
  MONITORING_KEYS,
  monitoringDocs,
} from "../../lib/monitoring/spec.ts";

Deno.test("docs/config-reference.md is up to date (deno run -A tools/gen_config_reference.ts)", async () => {
  assertEquals(await Deno.readTextFile(`${ROOT}/docs/config-reference.md`), renderReference());
});

Deno.test("every schema key, action, condition and monitoring key is described", () => {
  const keys = (s: { def: { shape: object } }) => Object.keys(s.def.shape).sort();
  assertEquals(Object.keys(projectDocs).sort(), keys(projectSchema));
  assertEquals(Object.keys(slurmDocs).sort(), keys(slurmSchema));
  assertEquals(Object.keys(backendDocs).sort(), keys(backendSchema));
  assertEquals(Object.keys(containerDocs).sort(), keys(containerSchema));
  assertEquals(Object.keys(monitoringDocs).sort(), [...MONITORING_KEYS].sort());
  assertEquals(Object.keys(actionDocs).sort(), Object.keys(ACTION_KEYS).sort());
  for (const [cls, d] of Object.entries(actionDocs)) {
    assertEquals(Object.keys(d.keys).sort(), [...ACTION_KEYS[cls]].sort(), cls);
  }
  assertEquals(Object.keys(conditionDocs).sort(), Object.keys(CONDITION_KEYS).sort());
  for (const [cls, d] of Object.entries(conditionDocs)) {
    assertEquals(Object.keys(d.keys).sort(), [...CONDITION_KEYS[cls]].sort(), cls);
  }
});
