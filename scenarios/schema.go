package scenarios

import "github.com/invopop/jsonschema"

// Schema returns the JSON Schema of scenario files. It is reflected from the
// Scenario type (github.com/invopop/jsonschema, so the schema cannot drift from
// the decoder) with YAML field names; unknown fields are rejected, as the
// loader rejects them.
func Schema() *jsonschema.Schema {
	r := &jsonschema.Reflector{FieldNameTag: "yaml", RequiredFromJSONSchemaTags: true}
	s := r.Reflect(&Scenario{})
	s.Title = "gpbudget scenario"
	s.Description = "A gpbudget scenario file (YAML). Fields left out take the defaults in scenarios/defaults.go."
	return s
}
