"""Reading task declarations of both SDKs out of Python source, without importing it.

One model for every command: `flyteres check`, `flyteres verify` and
`flyteres migrate` read modules through `flyteres.source.analysis.SourceModule`,
which uses the standard library's `ast` only (libcst is loaded by the codemod
alone, to edit what the model found).

- `text`: source text by ast's spans (byte columns), parentheses included;
- `names`: imports, aliases, module-level bindings and local scopes;
- `values`: static values through module constants and import-time choices;
- `walk`: one pass for functions, decorators and candidate calls;
- `flytekit`, `flyte2`: each SDK's declarations; `flyte_resources`: flyte's
  `Resources` checks, replayed statically;
- `model`: the records; `analysis`: `SourceModule` and `find_declarations`.
"""
