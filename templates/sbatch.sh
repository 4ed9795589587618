#!/bin/bash
{{directives}}
# Rendered by autoexp {{version}} for sweep "{{sweep}}", run "{{run}}" (index {{index}}).
# Re-render with `autoexp plan`; edits to this file are overwritten.
{{prologue}}
exec {{autoexp}} run-entry --sweep {{sweep_file}} --index {{index}}
