// Package template loads imgbuild templates: Packer-compatible HCL2 files
// with variables, locals, data sources, sources and builds.
//
// Loading happens in phases, each adding diagnostics rather than stopping
// at the first problem, so a user sees every mistake of a run at once:
//
//  1. parse every *.pkr.hcl / *.pkr.json file of the path (and var files);
//  2. decode the top-level blocks (variable, locals, local, data, source,
//     build, packer);
//  3. assign variable values (default < PKR_VAR_x < IMGBUILD_VAR_x <
//     *.auto.pkrvars.hcl < -var-file in order < -var in order) and run
//     their validation blocks;
//  4. evaluate locals and data sources in dependency order (cycles are
//     reported with their path); data sources are not contacted unless an
//     Evaluator is given: their outputs take placeholder values;
//  5. decode every component body against its generated hcldec spec, and
//     call the component's offline Prepare checks.
//
// The result keeps the parser's files so diagnostics render with snippets.
// Diagnostics never contain sensitive values: every sensitive variable or
// local value is collected in Template.Secrets for masking.
package template
