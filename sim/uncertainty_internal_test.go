package sim

import "testing"

// nParams sizes drawParams' arrays: it must be the number of parameters.
func TestParamsCount(t *testing.T) {
	if n := len(AllParams()); n != nParams {
		t.Fatalf("AllParams has %d parameters, nParams says %d", n, nParams)
	}
	for i, p := range AllParams() {
		if p.index() != i {
			t.Errorf("%s: index %d, at %d", p, p.index(), i)
		}
		if q, ok := ParseParam(p.String()); !ok || q != p {
			t.Errorf("%s does not parse back", p)
		}
	}
}
