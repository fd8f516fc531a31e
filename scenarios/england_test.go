package scenarios

import (
	"math"
	"slices"
	"testing"

	"github.com/gpbudget/gpbudget/internal/england"
)

// TestEnglandPopulation: the built-in England scenario holds every
// practice with its real list and units; an area holds its own; need
// gives each practice the expected cost per head its need-weighted
// populations say; the resolved YAML names the table rather than listing
// practices, and reads back to the same practices.
func TestEnglandPopulation(t *testing.T) {
	s, err := Load("england-2023")
	if err != nil {
		t.Fatal(err)
	}
	tb, _ := england.Load()
	var kept []england.Practice
	byCode := map[string]england.Practice{}
	for _, p := range tb.Practices {
		if p.Patients >= EnglandMinList {
			kept = append(kept, p)
			byCode[p.Code] = p
		}
	}
	// The 6,554 practices less the 38 with fewer than 100 patients.
	if n := len(s.Population.Practices); n != 6516 || n != len(kept) {
		t.Fatalf("england-2023: %d practices, want 6516", n)
	}
	total := 0
	for i, p := range s.Population.Practices {
		n := 0
		for b := range 20 {
			n += p.List.Male[b] + p.List.Female[b]
		}
		q := byCode[p.ID]
		if i > 0 {
			// Neighbours together: by region, ICB, place, PCN, then code.
			o := s.Population.Practices[i-1]
			if k, l := [...]string{o.Region, o.ICB, o.Area, o.Neighbourhood, o.ID}, [...]string{p.Region, p.ICB, p.Area, p.Neighbourhood, p.ID}; slices.Compare(k[:], l[:]) >= 0 {
				t.Fatalf("practice %d (%v) after %v", i, l, k)
			}
		}
		if p.ID != q.Code || n != q.Patients || p.Neighbourhood == "" || p.Area != q.Geo[england.Place] || p.ICB != q.Geo[england.ICB] || p.Region != q.Geo[england.Region] {
			t.Fatalf("practice %d: %s list %d %s/%s/%s/%s; table %s %d %v", i, p.ID, n, p.Neighbourhood, p.Area, p.ICB, p.Region, q.Code, q.Patients, q.Geo)
		}
		total += n
	}
	if total != 61_193_019 {
		t.Errorf("%d patients, want 61,193,019 (the table's 61,194,033 less 1,014 in practices under 100)", total)
	}
	// Need reproduces each practice's expected cost per head relative to
	// England: hospital at the G&A index, prescribing at the prescribing
	// index (by hand: the ratio of the practice's cost to England's mix).
	var ref PracticeSpec
	ref.List.Male, ref.List.Female = apportion(s.Population.Synthetic.AgeShare, englandRefList)
	hN, pN := s.englandCost([]PracticeSpec{ref})
	for _, i := range []int{0, 100, 5000} {
		p := s.Population.Practices[i]
		q := byCode[p.ID]
		c, _ := s.costPerHead(p.List.Male, p.List.Female)
		h, pr := s.needCost(c, p.Need)
		want := hN*q.Need[england.NeedGeneralAcute] + pN*q.Need[england.NeedPrescribing]
		if math.Abs((h+pr)/want-1) > 1e-3 {
			t.Errorf("%s: expected cost per head %.2f, need-weighted %.2f", p.ID, h+pr, want)
		}
	}
	// An area: QOC's 52 practices.
	a, err := s.UseEngland("Shropshire, Telford and Wrekin")
	if err != nil || a.Code != "QOC" || len(s.Population.Practices) != 52 {
		t.Fatalf("UseEngland(Shropshire...) = %v, %v with %d practices; want QOC, 52", a.Code, err, len(s.Population.Practices))
	}
	y, err := s.YAML()
	if err != nil {
		t.Fatal(err)
	}
	if len(y) > 20000 {
		t.Errorf("resolved YAML is %d bytes: it lists the practices rather than naming the table", len(y))
	}
	back, err := Parse(y, "resolved")
	if err != nil {
		t.Fatal(err)
	}
	if len(back.Population.Practices) != 52 || back.Population.Practices[7].Need != s.Population.Practices[7].Need {
		t.Errorf("read back: %d practices", len(back.Population.Practices))
	}
	// Holders by the real levels: a PCN each.
	back.Rule.Consortium.By = "pcn"
	m, err := back.Model(1)
	if err != nil {
		t.Fatal(err)
	}
	if g, want := len(m.Groups()), len(tb.Areas(england.PCN, a)); g != want {
		t.Errorf("holders by pcn: %d groups, QOC has %d PCNs", g, want)
	}
	for _, p := range m.Practices {
		if p.Group != p.Geo[0] {
			t.Fatalf("practice %s holder %s, PCN %s", p.ID, p.Group, p.Geo[0])
		}
	}
	if _, err := s.UseEngland("no-such-area-xyz"); err == nil {
		t.Error("an unknown area was accepted")
	}
}

// TestEnglandLists: a list-size file's real age-sex lists win over the
// imputed ones; the practice keeps its table units and need is set for
// its own list; the scenario lists its practices (not built in).
func TestEnglandLists(t *testing.T) {
	s, err := Load("default")
	if err != nil {
		t.Fatal(err)
	}
	file, err := ReadPopulationFile("testdata/population/quinary-old.csv", nil, s.Limits)
	if err != nil {
		t.Fatal(err)
	}
	a, missing, err := s.UseEnglandLists("QHM", file)
	if err != nil || a.Code != "QHM" || len(missing) != 0 {
		t.Fatalf("UseEnglandLists: %v %v %v", a.Code, missing, err)
	}
	ps := s.Population.Practices
	if len(ps) != 1 || ps[0].ID != "A81001" || ps[0].Neighbourhood != "U89141" || ps[0].ICB != "QHM" || s.Population.England != nil {
		t.Fatalf("practices %+v, england %v", ps, s.Population.England)
	}
	if !slices.Equal(ps[0].List.Male, file[0].List.Male) || !slices.Equal(ps[0].List.Female, file[0].List.Female) {
		t.Errorf("lists %v, file's %v", ps[0].List, file[0].List)
	}
	// Need for the file's own list: expected cost per head as the table says.
	tb, _ := england.Load()
	q, _ := tb.Lookup("QHM")
	var row england.Practice
	for _, p := range tb.Select(q) {
		if p.Code == "A81001" {
			row = p
		}
	}
	var ref PracticeSpec
	ref.List.Male, ref.List.Female = apportion(s.Population.Synthetic.AgeShare, englandRefList)
	hN, pN := s.englandCost([]PracticeSpec{ref})
	c, _ := s.costPerHead(ps[0].List.Male, ps[0].List.Female)
	h, pr := s.needCost(c, ps[0].Need)
	if want := hN*row.Need[england.NeedGeneralAcute] + pN*row.Need[england.NeedPrescribing]; math.Abs((h+pr)/want-1) > 1e-3 {
		t.Errorf("expected cost per head %.2f, need-weighted %.2f", h+pr, want)
	}
	if _, _, err := s.UseEnglandLists("QOC", file); err == nil {
		t.Error("a file with no practice in QOC was accepted")
	}
}

// TestPCNGroups: whole PCNs of a place grouped until a target, by hand on
// QOC's nine PCNs (one place), in code order: 19,451, 31,323, 86,752,
// 61,074, 58,903, 36,338, 127,303, 37,732 and 57,576 people. At 250,000:
// the first five (257,503) and the last four (258,949). At 300,000: the
// first seven (421,144), and the last two (95,308, under half the target)
// join them: one group of 516,452.
func TestPCNGroups(t *testing.T) {
	s, err := Load("neighbourhood-shared-savings-2026")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.UseEngland("QOC"); err != nil {
		t.Fatal(err)
	}
	s.Rule.Consortium = Consortium{By: "pcn_groups", TargetPopulation: 250000, NamePrefix: "MNP"}
	for _, c := range []struct {
		target int
		sizes  []int
	}{{250000, []int{257503, 258949}}, {300000, []int{516452}}} {
		s.Rule.Consortium.TargetPopulation = c.target
		m, err := s.Model(1)
		if err != nil {
			t.Fatal(err)
		}
		size := map[string]int{}
		of := map[string]string{}
		for _, p := range m.Practices {
			size[p.Group] += p.ListSize()
			if g, ok := of[p.Geo[0]]; ok && g != p.Group {
				t.Fatalf("PCN %s split between %s and %s", p.Geo[0], g, p.Group)
			}
			of[p.Geo[0]] = p.Group
		}
		var got []int
		for _, g := range m.Groups() {
			got = append(got, size[g])
		}
		if !slices.Equal(got, c.sizes) {
			t.Errorf("target %d: groups of %v people, want %v", c.target, got, c.sizes)
		}
	}
}
