package scenarios

// The parameter table: every default number, its source, and the arithmetic
// done on it. Sources marked [ref §n] are listed in full in
// docs/references.md, section n. Figures marked UNVERIFIED or ASSUMPTION have no checked source
// here; docs/parameters.md lists them so users know where the evidence is thin.
//
// Price year: 2009-10. Costs published at 2016-17 prices are deflated by
// costDeflator2016to2009.

const (
	// ASSUMPTION/UNVERIFIED: the HCHS pay and prices index (PSSRU) rose by
	// about 11% from 2009-10 to 2016-17; 1/1.11 ≈ 0.90.
	costDeflator2016to2009 = 0.90

	// Practices [ref §1]: list size 2007 (n = 8,582): mean 6,422, SD 3,965.
	listMean2007 = 6422
	listSD2007   = 3965

	// Prescribing [ref §2]: items per head 15.6 (2007), 17.1 (2009); by age
	// 2007: under 16 3.9, 16-59 9.5, 60+ 42.4. Item cost £9.64 (2009) [ref §3].
	itemsPerHead2007 = 15.6
	itemsPerHead2009 = 17.1
	itemsUnder16     = 3.9
	items16to59      = 9.5
	items60plus      = 42.4
	costPerItem2009  = 9.64

	// Outpatients [ref §2]: about 196 GP-referred first attendances per 1,000
	// (derived), about 2.2 follow-ups per first attendance (derived); £120 an
	// attendance at 2016-17 prices [ref §3].
	gpReferralsPerHead   = 0.196
	followUpsPerFirst    = 2.2
	outpatientCost201617 = 120

	// A&E [ref §2]: about 380 attendances per 1,000 (derived); age split of
	// attendances: 16 and under 23.4%, 17-39 33.4%, 40-59 19.9%, 60-79
	// 14.2%, 80+ 8.2%. £148 an attendance at 2016-17 prices [ref §3].
	aePerHead   = 0.380
	aeCost20167 = 148

	// Emergency admissions [ref §2, §3]: about 97 per 1,000 (derived); a
	// person of 80 is about 10 times as likely to be admitted as someone aged
	// 20-49 (Nuffield Trust); about £2,200 each in 2008-09 (derived, £11 bn / 5.0 m).
	emergencyPerHead = 0.097
	emergencyCost    = 2200

	// Elective admissions [ref §2, §3]: 5.2 m day cases a year (about 100 per
	// 1,000, derived on a population of about 52 m); day case £738 and elective
	// inpatient £3,684 at 2016-17 prices.
	// ASSUMPTION: of the 14.1 m - 5.0 m - 5.2 m = 3.9 m other admissions,
	// about 1.6 m are elective inpatient stays (31 per 1,000).
	dayCasePerHead    = 0.100
	inpatientPerHead  = 0.031
	dayCaseCost201617 = 738
	inpatientCost1617 = 3684
)

// englandAgeShare2009 is England's population by five-year band (percent,
// both sexes) and the male share of each band.
// UNVERIFIED: ONS mid-2009 population estimates for England, rounded from
// memory; not in docs/references.md. Used for the synthetic age structure and
// to weight age gradients to England's overall rates.
var englandAgeShare2009 = [20]float64{6.2, 5.6, 5.9, 6.4, 6.7, 6.5, 6.1, 7.0, 7.5, 7.2, 6.3, 5.8, 6.1, 4.6, 3.9, 3.2, 2.4, 1.4, 0.6, 0.2}
var englandMaleShare2009 = [20]float64{0.512, 0.512, 0.512, 0.512, 0.508, 0.503, 0.498, 0.497, 0.496, 0.495, 0.495, 0.494, 0.490, 0.480, 0.470, 0.440, 0.400, 0.330, 0.260, 0.200}

// mortality2009 is the annual probability of death by band, male then female.
// UNVERIFIED: rounded from ONS interim life tables for England 2008-10; not in
// docs/references.md. Implies a crude death rate near 9 per 1,000.
var mortality2009 = [2][20]float64{
	{0.0011, 0.0001, 0.0001, 0.0004, 0.0006, 0.0007, 0.0009, 0.0012, 0.0018, 0.0027, 0.0041, 0.0064, 0.0100, 0.0160, 0.0260, 0.0440, 0.0750, 0.1300, 0.2200, 0.3400},
	{0.0009, 0.0001, 0.0001, 0.0002, 0.0002, 0.0003, 0.0004, 0.0007, 0.0011, 0.0017, 0.0026, 0.0040, 0.0062, 0.0100, 0.0165, 0.0290, 0.0520, 0.0950, 0.1750, 0.3000},
}

// Relative age gradients (band rate / the scaled mean), both sexes.
var (
	// ASSUMPTION: outpatient referrals rise with age to about 4-5 times the
	// childhood rate at 75-84 (no age split in the references).
	outpatientGradient = [20]float64{0.45, 0.35, 0.40, 0.50, 0.55, 0.60, 0.70, 0.75, 0.85, 0.95, 1.10, 1.25, 1.45, 1.70, 1.90, 2.05, 2.10, 1.95, 1.70, 1.40}
	// Emergency admissions relative to ages 20-49 = 1, calibrated so that
	// people aged 65+ have 39.4% of them on England's age structure: 1.98 m
	// of 5.0 m in 2008-09 is 39.5% [ref §2] (TestEmergencyShareAt65Plus).
	// The reference's other figure, a person of 80 about ten times as
	// likely to be admitted as one aged 20-49 (Nuffield Trust), cannot hold
	// with it: rates rising with age and 80-84 at ten times put over half
	// of admissions at 65+ (54%, the gradient this replaced). The count is
	// the direct measure, so 80-84 stands at about five times here.
	// The shape (infants high, a minimum at 5-14, a steady rise from 50)
	// is ASSUMPTION.
	emergencyGradient = [20]float64{2.1, 0.58, 0.6, 1.0, 1.0, 0.95, 0.95, 1.0, 1.0, 1.05, 1.28, 1.48, 1.78, 2.15, 2.9, 3.85, 5.1, 6.55, 7.9, 8.75}
	// ASSUMPTION: elective admissions peak at 65-79 (no age split in the references).
	electiveGradient = [20]float64{0.3, 0.25, 0.25, 0.35, 0.4, 0.5, 0.6, 0.7, 0.8, 0.95, 1.15, 1.4, 1.75, 2.1, 2.4, 2.5, 2.4, 2.0, 1.5, 1.1}
	// ASSUMPTION: within ages 60+, items rise with age in this ratio; scaled so
	// the 60+ mean is the published figure.
	prescribing60Gradient = [8]float64{0.65, 0.8, 1.0, 1.15, 1.3, 1.4, 1.45, 1.45}
)

// englandWeights returns each band's share of England's population (sums to 1).
func englandWeights() [20]float64 {
	var w [20]float64
	t := 0.0
	for _, x := range englandAgeShare2009 {
		t += x
	}
	for b, x := range englandAgeShare2009 {
		w[b] = x / t
	}
	return w
}

// scaleGradient returns rate_b = mean · g_b / Σ_b w_b g_b.
func scaleGradient(g [20]float64, mean float64) []float64 {
	w := englandWeights()
	m := 0.0
	for b := range g {
		m += w[b] * g[b]
	}
	out := make([]float64, 20)
	for b := range g {
		out[b] = mean * g[b] / m
	}
	return out
}

func same(v []float64) BySexBand {
	return BySexBand{Male: append([]float64(nil), v...), Female: append([]float64(nil), v...)}
}

// prescribingRates: bands 0-14 take the under-16 rate; 15-59 the 16-59
// rate; 60+ the 60+ rate shaped by prescribing60Gradient; all scaled from
// 2007 to 2009 by 17.1/15.6.
func prescribingRates() []float64 {
	w := englandWeights()
	up := itemsPerHead2009 / itemsPerHead2007
	out := make([]float64, 20)
	gm, wt := 0.0, 0.0
	for j, g := range prescribing60Gradient {
		gm += w[12+j] * g
		wt += w[12+j]
	}
	gm /= wt
	for b := range out {
		switch {
		case b < 3:
			out[b] = itemsUnder16 * up
		case b < 12:
			out[b] = items16to59 * up
		default:
			out[b] = items60plus * up * prescribing60Gradient[b-12] / gm
		}
	}
	return out
}

// aeRates: each age group's rate is the overall rate times its share of
// attendances over its share of population; bands are assigned to groups by
// their midpoint (15-19 to 17-39).
func aeRates() []float64 {
	w := englandWeights()
	groupOf := func(b int) int {
		switch {
		case b < 3:
			return 0 // 16 and under
		case b < 8:
			return 1 // 17-39
		case b < 12:
			return 2 // 40-59
		case b < 16:
			return 3 // 60-79
		default:
			return 4 // 80+
		}
	}
	attShare := [5]float64{0.234, 0.334, 0.199, 0.142, 0.082}
	var popShare [5]float64
	for b := range 20 {
		popShare[groupOf(b)] += w[b]
	}
	out := make([]float64, 20)
	for b := range out {
		g := groupOf(b)
		out[b] = aePerHead * attShare[g] / popShare[g]
	}
	return out
}

// Default returns the built-in default scenario: a PCT-sized area of 50
// synthetic practices (about 300,000 patients) under practice-based
// commissioning's indicative budgets, at 2009-10 prices.
func Default() *Scenario {
	w := englandWeights()
	var share BySexBand
	for b := range 20 {
		share.Male = append(share.Male, 100*w[b]*englandMaleShare2009[b])
		share.Female = append(share.Female, 100*w[b]*(1-englandMaleShare2009[b]))
	}
	dc := costDeflator2016to2009
	electiveRate := dayCasePerHead + inpatientPerHead
	s := &Scenario{
		Name:         "default",
		Description:  "A PCT-sized area of 50 synthetic practices (about 300,000 patients) like England around 2009, with indicative budgets under practice-based commissioning.",
		Seed:         1,
		Replications: 200,
		Years:        3,
		PriceYear:    "2009-10",
		Population: Population{
			Synthetic: &SyntheticPractices{
				// About 50 practices make a PCT-sized area of about 300,000 [issue].
				Practices:    50,
				ListSizeMean: listMean2007, // [ref §1]
				ListSizeSD:   listSD2007,   // [ref §1]
				// ASSUMPTION: bounds well outside the 10th-90th percentiles
				// (2,238 and 11,784) [ref §1].
				MinList:   500,
				MaxList:   40000,
				AgeShare:  share,
				AgeTiltSD: 0.35, // ASSUMPTION: spreads the share aged 65+ across practices from about 10% to 25%
				// Need-weighted populations per head (age, sex and need
				// together) have a log-SD of 0.205 (general and acute) and
				// 0.195 (prescribing) across 6,472 practices of 1,000+,
				// 2024/25 [ref §9]. Expected cost per head here is age and
				// sex (the age tilt: log-SD 0.11) and need^elasticity (cost-
				// weighted elasticity about 0.62), independent: need's log-SD
				// is √(0.20² − 0.11²)/0.62 ≈ 0.27, which gives the area
				// 0.20 (TestDefaultCostPerHeadSpread).
				NeedSD:   0.27,
				IDPrefix: "P",
			},
		},
		Streams: Streams{
			Outpatient: Stream{
				Rate:           same(scaleGradient(outpatientGradient, gpReferralsPerHead)),
				Dispersion:     1.5, // ASSUMPTION (see frailty)
				FrailtyLoading: 0.7, // ASSUMPTION
				NeedElasticity: 0.3, // ASSUMPTION
				// ASSUMPTION from the spread of practice A&E rates (CV 0.29 across 7,800 practices, 2011-12 [ref §2]), part of which is age and need.
				StyleSD: 0.20,
				Cost: Cost{Family: "lognormal", Parts: []CostPart{
					// A referral's episode: first attendance and 2.2 follow-ups at £120 (2016-17) deflated [ref §2, §3]. CV ASSUMPTION.
					{Name: "episode", Share: 1, Mean: round2((1 + followUpsPerFirst) * outpatientCost201617 * dc), CV: 1.0},
				}},
			},
			Prescribing: Stream{
				Rate:           same(prescribingRates()),
				Dispersion:     4.0,  // ASSUMPTION
				FrailtyLoading: 0.8,  // ASSUMPTION
				NeedElasticity: 0.5,  // ASSUMPTION
				StyleSD:        0.15, // ASSUMPTION
				Cost: Cost{Family: "gamma", Parts: []CostPart{
					// £9.64 net ingredient cost per item, 2009 [ref §3]; CV ASSUMPTION (item costs are very skewed).
					{Name: "item", Share: 1, Mean: costPerItem2009, CV: 2.0},
				}},
			},
			AE: Stream{
				Rate:           same(aeRates()),
				Dispersion:     1.2,  // ASSUMPTION
				FrailtyLoading: 0.6,  // ASSUMPTION
				NeedElasticity: 1.0,  // ASSUMPTION
				StyleSD:        0.20, // ASSUMPTION, cf. practice A&E CV 0.29 [ref §2]
				Cost: Cost{Family: "lognormal", Parts: []CostPart{
					{Name: "attendance", Share: 1, Mean: round2(aeCost20167 * dc), CV: 0.6}, // [ref §3] deflated; CV ASSUMPTION
				}},
			},
			Emergency: Stream{
				Rate:           same(scaleGradient(emergencyGradient, emergencyPerHead)),
				Dispersion:     1.0,  // ASSUMPTION
				FrailtyLoading: 1.0,  // ASSUMPTION
				NeedElasticity: 1.0,  // ASSUMPTION
				StyleSD:        0.10, // ASSUMPTION: GPs influence emergencies least
				Cost: Cost{Family: "lognormal", Parts: []CostPart{
					{Name: "admission", Share: 1, Mean: emergencyCost, CV: 1.5}, // [ref §3]; CV ASSUMPTION (heavy tail)
				}},
			},
			Elective: Stream{
				Rate:           same(scaleGradient(electiveGradient, electiveRate)),
				Dispersion:     1.0,  // ASSUMPTION
				FrailtyLoading: 0.8,  // ASSUMPTION
				NeedElasticity: 0.3,  // ASSUMPTION
				StyleSD:        0.20, // ASSUMPTION
				Cost: Cost{Family: "lognormal", Parts: []CostPart{
					{Name: "day_case", Share: round4(dayCasePerHead / electiveRate), Mean: round2(dayCaseCost201617 * dc), CV: 0.8},    // [ref §2, §3]; CV ASSUMPTION
					{Name: "inpatient", Share: round4(inpatientPerHead / electiveRate), Mean: round2(inpatientCost1617 * dc), CV: 1.2}, // [ref §3]; CV ASSUMPTION
				}},
			},
		},
		Frailty: Frailty{
			// ASSUMPTION, shaped by [ref §4]: costs are concentrated (top 1% of
			// people about 32% of hospital spending), high spenders tend to stay
			// high, and people with repeated emergency admissions regress to
			// their group's mean within 4-5 years (persistence 0.45-0.5 in the
			// top states leaves under 10% there after four years).
			Share:       []float64{0.62, 0.26, 0.10, 0.02},
			Level:       []float64{0.35, 1.0, 2.6, 9.0},
			Persistence: []float64{0.85, 0.60, 0.50, 0.45},
			Mortality:   []float64{0.5, 1.0, 2.5, 6.0},
		},
		Demography: Demography{
			Mortality: BySexBand{Male: mortality2009[0][:], Female: mortality2009[1][:]},
			// UNVERIFIED: general fertility rate, England and Wales 2009, about
			// 63.7 live births per 1,000 women aged 15-44 (ONS); not in docs/references.md.
			BirthRate: 0.0637,
			// UNVERIFIED: about 105 boys per 100 girls at birth (ONS).
			MaleBirthShare: 0.512,
			// ASSUMPTION: annual list turnover (patients leaving, and as many
			// joining) of 8%; no source in docs/references.md.
			Turnover: 0.08,
		},
		Budget: Budget{
			// PBC budgets 2007-08 started from historic activity and moved
			// towards fair shares at a pace that is not "overly aggressive";
			// PCT pace of change implied about a 20-year path, i.e. 5% of the
			// gap a year [ref §6].
			Method: "blend",
			Uplift: 0, // constant 2009-10 prices: no real uplift by default
			Pace:   0.05,
			// PBC 2007-08 budgets: "historic activity at current prices" [ref §6],
			// i.e. last year's spend.
			HistoricYears: 1,
			// ASSUMPTION: no top-slice unless a scenario sets one (PCTs held
			// contingency reserves, but no figure is in docs/references.md).
			TopSlice: 0,
			// March 2009 vision: every practice gets its indicative budget by
			// 1 May [ref §6], about week 4 of the financial year.
			IssueWeek: 4,
		},
		Rule: Rule{
			// PBC 2006-07: practices entitled to redirect at least 70% of
			// freed-up resources [ref §6, Hansard 6 Nov 2006].
			Type:           "indicative",
			RetentionShare: 0.70,
			// ASSUMPTION: every practice of the default area holds a budget
			// (the MORI 2009 survey's 73% is used in pbc-indicative-2009 [ref §6]).
			Participation: 1,
			// No entry threshold by default; fundholding's was 9,000 patients
			// (1991), later 5,000 [ref §6].
			MinListSize: 0,
			BusinessCase: BusinessCase{
				// Not required by default: the 2006-07 entitlement to redirect
				// freed-up resources [ref §6]; pbc-indicative-2009 requires one.
				Required: false,
				// ASSUMPTION: no published approval rate; NHS Alliance 2006
				// delegates doubted they would see savings [ref §6].
				ApprovalProb: 0.75,
				// March 2009: PCTs decide on business cases "within eight weeks
				// at most" [ref §6]; taken as the mean (ASSUMPTION: no data on
				// how often the promise was kept).
				TurnaroundWeeks: 8,
				// ASSUMPTION: freed-up resources not committed within a quarter
				// (13 weeks) of the year's end return to the commissioner.
				LapseWeeks: 13,
			},
			// PBC 2004 draft: an overspend in one year may be offset by savings
			// in another [ref §6]. Off by default: 2006-07's entitlement was to
			// each year's freed-up resources.
			MakeUpOverspends: false,
			// ASSUMPTION: off by default; a scenario sets it to model a PCT in
			// deficit refusing retention.
			RefuseInDeficit: false,
			// Off by default (years 0). When used: 3 years within 5%, after the
			// PBC 2004 draft's three-year horizon for balancing a budget [ref
			// §6]; the 5% band is an ASSUMPTION (cf. Asthana et al.'s 5%
			// overspend threshold [ref §5]).
			EarnedAutonomy: Autonomy{Years: 0, Band: 0.05},
			// Hard budgets: deficits repaid from later underspends (years 0);
			// fundholding savings could be held for up to four years [ref §6],
			// a scenario may set repay_years instead.
			RepayYears: 0,
			// No cap by default; the Conservative 2007 plan's failure regime, in
			// which the PCT steps in, is a scenario option [ref §6].
			DeficitCap: 0,
			// No risk pool by default (ASSUMPTION); Jones 2009: high-cost,
			// low-frequency events belong in a pool of over 1 million [ref §5].
			PoolShare: 0,
			Consortium: Consortium{
				By: "none",
				// Jones 2009: a fixed capitation budget is too risky below
				// 100,000 people [ref §5]; the 2010 consortia were of this order.
				TargetPopulation: 100000,
				NamePrefix:       "C",
			},
		},
		Behaviour: Behaviour{
			// ASSUMPTION: no sourced effect of indicative budgets on demand;
			// Smith 1999 found spend largely beyond GPs' control [ref §5].
			Indicative: RegimeEffects{},
			Hard: RegimeEffects{
				// ASSUMPTION: no sourced effect on referrals or prescribing; the
				// SD of 1% expresses that uncertainty around no effect.
				Outpatient:  Effect{Mean: 0, SD: 0.01},
				Prescribing: Effect{Mean: 0, SD: 0.01},
				// Dusheiko et al. 2006 [ref §6]: fundholders had 3.5-5.1%
				// fewer chargeable elective admissions, about 60% of it
				// incentive (40% selection): midpoint 4.3% × 0.6 ≈ 2.6% fewer
				// under a budget that covers all electives. SD: the 3.5-5.1%
				// range as about ±2 SD, widened for the split (ASSUMPTION).
				Elective: Effect{Mean: -0.026, SD: 0.005},
			},
			// Dusheiko et al. 2006: no change in emergency admissions [ref §6];
			// ASSUMPTION: no substitution to A&E either.
			SubstitutionAE:        0,
			SubstitutionEmergency: 0,
		},
		Lists:  defaultLists(),
		Limits: DefaultLimits(),
		// Medicare's Shared Savings Program BASIC track [ref §8] (contract.go).
		Contract:          defaultContract(),
		CommissionerLabel: "commissioner",
	}
	riskDefaults(s) // risk beyond chance: risk_defaults.go
	return s
}

func round2(x float64) float64 { return float64(int64(x*100+0.5)) / 100 }
func round4(x float64) float64 { return float64(int64(x*10000+0.5)) / 10000 }
