#!/bin/bash
{{directives}}
# Rendered by autoexp {{version}} for sweep "{{sweep}}": array group {{group}} ({{count}} runs).
# Task id + {{offset}} = sweep index; `autoexp plan` prints which run each index is.
{{prologue}}
exec {{autoexp}} run-entry --sweep {{sweep_file}} --index "$((SLURM_ARRAY_TASK_ID + {{offset}}))"
