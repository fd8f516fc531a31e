package sim

// KernelSpec is the patient-level kernel's model as plain tables, so that
// an implementation outside Go (bench/peer, a numpy peer) simulates the
// same thing the kernel does: the same practices' starting lists, each
// patient-year's five event counts (negative binomial given age-sex cell
// and frailty state), the costs of those events, and the year's
// demography (frailty transition, death, leaving, ageing, births and
// joiners). Rates, prices and transition probabilities are the ones the
// kernel uses (Kernel.Start and Kernel.Year) for the replications asked,
// every effect (rate uncertainty, need and style, drift, shocks and trends)
// folded into a per (practice, year, stream) rate multiplier and price.
type KernelSpec struct {
	States int `json:"states"` // frailty states K
	Bands  int `json:"bands"`  // 5-year age bands per sex (cell = sex*Bands + band)
	MaxAge int `json:"max_age"`
	Years  int `json:"years"` // years after the first: Years+1 simulated years
	// Dispersion is each stream's negative-binomial shape r (0: Poisson).
	Dispersion [NStreams]float64 `json:"dispersion"`
	// BaseRate[(cell*K+k)*NStreams+s]: mean count per patient-year before
	// the practice's, replication's and year's multipliers.
	BaseRate []float64 `json:"base_rate"`
	// TransCum[(cell*K+k)*(K+1)+o]: P(outcome <= o) for outcomes 0..K-1 (next
	// state), K (death); the rest leave. The kernel's own thresholds / 2^64.
	TransCum []float64 `json:"trans_cum"`
	// CellShare[cell*K+k]: a starting patient's or joiner's chance of state
	// k in its cell; NewbornShare: a newborn's.
	CellShare      []float64          `json:"cell_share"`
	NewbornShare   []float64          `json:"newborn_share"`
	BirthRate      float64            `json:"birth_rate"` // births a year per woman aged 15-44
	MaleBirthShare float64            `json:"male_birth_share"`
	Turnover       float64            `json:"turnover"` // joiners a year per patient at the start of the year
	Costs          [NStreams]SpecCost `json:"costs"`
	// Count[i][cell]: practice i's starting list by cell (ages uniform in
	// the band, 95-104 in the last; joiners take the same mix).
	Count [][NCells]int `json:"count"`
	Reps  []SpecRep     `json:"reps"`
}

// SpecCost is a stream's cost per event: one gamma (Gamma) or a mixture
// of lognormals, each part with its share of events, mean and CV.
type SpecCost struct {
	Gamma bool       `json:"gamma"`
	Parts []SpecPart `json:"parts"`
}

// SpecPart is one part of a stream's cost per event (CostPart).
type SpecPart struct {
	Share float64 `json:"share"`
	Mean  float64 `json:"mean"`
	CV    float64 `json:"cv"`
}

// SpecRep is one replication's multipliers: Mult[i][y][s] multiplies
// BaseRate for practice i in year y (need, style, the replication's rate
// draw and the year's effects), Price[i][y][s] each event's cost.
type SpecRep struct {
	Rep   int                   `json:"rep"`
	Mult  [][][NStreams]float64 `json:"mult"`
	Price [][][NStreams]float64 `json:"price"`
}

// Spec returns the kernel's model for replications reps (seed as given),
// as Kernel.Start and Kernel.Year would simulate it over the kernel's
// years. It resets the kernel's per-task state: call Start before Year.
func (k *Kernel) Spec(seed uint64, reps []int) *KernelSpec {
	w := &k.w
	w.setup()
	p := w.p
	m := p.m
	K := p.k
	s := &KernelSpec{States: K, Bands: NBands, MaxAge: MaxAge, Years: k.years,
		BirthRate: m.Demography.BirthRate, MaleBirthShare: m.Demography.MaleBirthShare, Turnover: m.Demography.Turnover,
		CellShare: append([]float64(nil), p.cellShare...), NewbornShare: append([]float64(nil), m.Frailty.Share...)}
	for st := range NStreams {
		s.Dispersion[st] = m.Streams[st].Dispersion
		s.Costs[st].Gamma = m.Streams[st].Family == GammaSum
		for _, cp := range m.Streams[st].Cost {
			s.Costs[st].Parts = append(s.Costs[st].Parts, SpecPart{Share: cp.Share, Mean: cp.Mean, CV: cp.CV})
		}
	}
	s.BaseRate = make([]float64, NCells*K*NStreams)
	for c := range NCells {
		for j := range K {
			for st := range NStreams {
				s.BaseRate[(c*K+j)*NStreams+st] = m.Streams[st].Rate[c/NBands][c%NBands] * p.frailMult[st][c*K+j]
			}
		}
	}
	for _, row := range p.trans {
		for _, th := range row[:K+1] {
			s.TransCum = append(s.TransCum, float64(th)*0x1p-64)
		}
	}
	s.Count = make([][NCells]int, len(m.Practices))
	for i := range m.Practices {
		for c := range NCells {
			s.Count[i][c] = m.Practices[i].Count[c/NBands][c%NBands]
		}
	}
	first := p.firstYear()
	for _, rep := range reps {
		rp := k.params(seed, rep)
		sr := SpecRep{Rep: rep, Mult: make([][][NStreams]float64, len(m.Practices)), Price: make([][][NStreams]float64, len(m.Practices))}
		for i := range m.Practices {
			// As Kernel.Start and Year: the tables at rp.mult × e.ref, thinned
			// by e.rate/e.ref, so the year's mean is rp.mult × e.rate.
			w.fx.reset(p, TaskKey(seed, rep, i), rp, first, first+k.years)
			sr.Mult[i] = make([][NStreams]float64, k.years+1)
			sr.Price[i] = make([][NStreams]float64, k.years+1)
			for y := range k.years + 1 {
				e := w.fx.at(first + y)
				for st := range NStreams {
					sr.Mult[i][y][st] = p.pmult[i][st] * rp.mult[st] * e.rate[st]
					sr.Price[i][y][st] = e.cost[st]
				}
			}
		}
		s.Reps = append(s.Reps, sr)
	}
	return s
}

// YearTotals is Year, returning besides the patient-years the year's events
// and spend per stream (bench's test of its peer compares them).
func (k *Kernel) YearTotals(seed uint64, rep, i, year int) (int64, [NStreams]int, [NStreams]float64) {
	w := &k.w
	var y yearOut
	want := k.rp.mult
	w.yearEffects(w.fx.at(w.p.firstYear()+year), &want)
	if want != w.built {
		w.built = want
		w.buildTables(i, &w.built)
	}
	w.stepYear(TaskKey(seed, rep, i).At(w.p.firstYear()+year), false, w.p.m.StopLoss, &y)
	return int64(y.listSize), y.events, y.spend
}
