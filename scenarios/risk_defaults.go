package scenarios

// Defaults for risk beyond chance, with their sources. [ref §n] is section
// n of docs/references.md; [data] marks figures measured on the
// real practice files (NHS Payments to General Practice; the method is in
// docs/parameters.md, "Risk beyond chance"). ASSUMPTION marks values
// without a checked source.

const (
	// Dispensing practices' drug reimbursement per registered patient,
	// 2014/15 to 2018/19 (NHS Payments to General Practice; about 1,060
	// practices over 1,000 patients a year) [data]: the year-on-year log
	// change has a robust SD of 6.6-7.4% (7.0% on average) in every
	// list-size band [ref §9]; of its variance, 16-26% lies between
	// CCGs (a one-way random-effects analysis: between-CCG SD of the yearly
	// change 3.2-4.4%); successive yearly changes of a practice correlate
	// -0.09 to -0.18 (-0.15 on average).
	//
	// An AR(1) effect x with persistence ρ has Corr(Δx_t, Δx_t+1) =
	// -(1-ρ)/2, so -0.15 gives ρ = 0.70 (if chance and yearly shocks,
	// whose changes correlate -0.5, carry part of the variance, ρ is a
	// little higher). Within CCGs the change's variance, about (7.0%)² ×
	// 0.8, is 2σ²(1-ρ), so σ = sqrt(0.0039 / 0.6) = 0.08.
	driftPersistence = 0.70
	driftSDMeasured  = 0.08
	// A shock independent across years has a yearly change of SD √2·σ.
	// The between-CCG SD of the yearly change was 3.8% (mean of the four
	// years), 1.9-4.0% by permutation (the variance of CCGs' residuals less
	// what random membership gives), and 1.0-1.3% between NHS England
	// local offices (about 600,000 people of dispensing practices) [data].
	// Dispensing practices are about 94,000 people a CCG, so the CCG
	// component holds variation at a neighbourhood's scale as well as a
	// place's: σ² = (3.0%/√2)² ≈ 0.0205² is split between the
	// neighbourhood (0.014) and the place (0.012), and ICBs, which the
	// files do not show, take 0.005 (ASSUMPTION: the split and the ICB's
	// share). The region: 1.15%/√2 = 0.008 [data].
	neighbourhoodShockPrescribing = 0.014
	placeShockPrescribing         = 0.012
	icbShockPrescribing           = 0.005
	regionShockPrescribing        = 0.008
	// The national median change was +2.2%, -4.0%, -2.2% and -3.2% in the
	// four pairs of years: SD 2.8%, so σ = 2.8%/√2 = 0.02 (four values
	// only).
	nationalShockPrescribing = 0.02

	// Prescription items per head 15.6 (2007), 17.1 (2009), 17.8 (2010)
	// [ref §2]: (17.8/15.6)^(1/3) - 1 = 4.5% a year (4.7% a year 2007-09,
	// 4.1% 2009-10).
	itemsGrowth = 0.045
	// Net ingredient cost per item £9.64 (2009), £9.53 (2010) [ref §3]:
	// -1.1% in one year, in cash terms (taken as the change relative to
	// the price year's prices).
	itemPriceGrowth = -0.011
)

// riskDefaults sets the defaults of the risk sections in the default
// scenario (every scenario file starts from it).
func riskDefaults(s *Scenario) {
	// ASSUMPTION: styles of referral, prescribing and admission share a
	// practice's habits; no checked figure (need indices, which styles are
	// not, correlate 0.92 between general and acute and prescribing [ref §9]).
	s.Population.StyleCorr = 0.3
	// Places by geography (areas: 1), whose units have England's mean
	// sizes in 2022/23: 61.2 million registered patients in 1,256 primary
	// care networks (48,700 each), 106 sub-ICB locations (577,300), 42 ICBs
	// (1,457,000) and 7 regions (8,742,000) (NHS England need-weighted
	// populations 2022/23 [ref §9]). The default area of 50 practices is
	// a few neighbourhoods of one place.
	s.Population.Synthetic.Areas = 1
	s.Population.Synthetic.Geography = Geography{Neighbourhood: 48_700, Place: 577_300, ICB: 1_457_000, Region: 8_742_000}
	// Need per head correlates 0.918 (2024/25) and 0.879 (2022/23) between
	// general and acute and prescribing across practices (NHS England's
	// weighted populations [ref §9]; docs/parameters.md): each stream's need
	// has a share 1 − 0.92 of its variance of its own.
	s.Population.Synthetic.NeedCorr = 0.92
	// Frailty shares by age (the chain's equilibrium with state-dependent
	// mortality), so the list's mix stays the one its rates are normalised
	// to: a consequence of the frailty assumptions, no new number.
	s.Frailty.ByAge = true
	// Budgets are set before the year starts (indicative budgets by 1 May
	// [ref §6]), when last year's spend is not yet complete: the last
	// complete year is t-2, the data PBC budgets were set from (issue 14).
	s.Budget.Lag = 2
	// ASSUMPTION: the commissioner projects historic budgets for the
	// practice's list as it stands and the trends it knows (PBC's
	// prescribing budgets came with the prescribing formula's growth [ref
	// §6]); without it every budget falls behind growth over the lag and
	// each year after (the default area overspent 3.2%, 4.8% and 6.0% in
	// years 1-3), and the chance of a 5% overspend is mostly that shortfall
	// rather than chance.
	s.Budget.Project = true
	s.Drift = Drift{
		// [data], see above. Prescribing measured; referrals, A&E and
		// electives, which GPs drive as much, ASSUMPTION the same; emergency
		// admissions, which GPs influence least (style SD 0.10 against 0.20),
		// ASSUMPTION 0.05.
		SD:          StreamValues{Outpatient: driftSDMeasured, Prescribing: driftSDMeasured, AE: driftSDMeasured, Emergency: 0.05, Elective: driftSDMeasured},
		Persistence: driftPersistence, // [data]
		// ASSUMPTION: a practice's streams drift partly together.
		Correlation: Correlation{All: 0.3},
	}
	// Other streams' shocks at every level: prescribing's times a ratio
	// (ASSUMPTION): A&E and emergency admissions vary with winters and
	// outbreaks more (10/9); referrals and electives with local
	// commissioning and waiting-list drives less (20/27), the ratios the
	// single area shock had before levels (0.03 and 0.02 to prescribing's
	// 0.027).
	level := func(p float64) StreamValues {
		return StreamValues{Outpatient: p * 20 / 27, Prescribing: p, AE: p * 10 / 9, Emergency: p * 10 / 9, Elective: p * 20 / 27}
	}
	s.Shocks = Shocks{
		// Prescribing [data], see above; others by the ratios.
		NeighbourhoodSD: level(neighbourhoodShockPrescribing),
		PlaceSD:         level(placeShockPrescribing),
		ICBSD:           level(icbShockPrescribing),
		RegionSD:        level(regionShockPrescribing),
		NationalSD:      StreamValues{Outpatient: 0.01, Prescribing: nationalShockPrescribing, AE: 0.02, Emergency: 0.02, Elective: 0.01},
		// ASSUMPTION: a bad winter moves A&E and emergency admissions together
		// (0.8); other pairs 0.3.
		Correlation: Correlation{All: 0.3, Pairs: []PairCorr{{A: "ae", B: "emergency", Rho: 0.8}}},
	}
	s.Trends = Trends{
		// Prescribing [ref §2, §3], see above; other streams ASSUMPTION 0
		// (no figure in the reference), uncertain by their priors.
		DemandGrowth: StreamValues{Prescribing: itemsGrowth},
		PriceGrowth:  StreamValues{Prescribing: itemPriceGrowth},
	}
	s.RiskAdjustment = RiskAdjustment{
		// PBRA was a person-level regression fitted to a sample (Dixon et al.
		// 2011 [ref §4]); the default formula is estimated the same way.
		Formula: "estimated",
		// ASSUMPTION: 200,000 patients (PBRA used millions; a smaller sample
		// adds estimation error to the weights, a few percent per cell).
		SampleSize: 200_000,
		// ASSUMPTION, chosen so the default area's practice-level R² (about
		// 0.75) and share of practices 10% or more from target (about a
		// third) are near PBRA's 0.77 and a third [ref §4]: a person-level
		// indicator with much noise (0.5) and a practice-level error of 0.1.
		ProxyErrorSD: 0.1,
		ProxyBiasSD:  0.05,
	}
	s.Uncertainty = Uncertainty{Priors: map[string]PriorSpec{
		// Rates: lognormal, mean the rate. Published counts over a population
		// [ref §2]: prescribing 3% (items per head published), A&E and
		// emergency admissions 5% (derived from national counts); GP-referred
		// outpatients and electives 10% (derived; age profiles and the
		// inpatient share assumed). All ASSUMPTION.
		"rate.outpatient":  {Dist: "lognormal", SD: 0.10, Source: "assumption (derived rate, assumed age profile)"},
		"rate.prescribing": {Dist: "lognormal", SD: 0.03, Source: "assumption (published items per head, ref §2)"},
		"rate.ae":          {Dist: "lognormal", SD: 0.05, Source: "assumption (derived from the official count, ref §2)"},
		"rate.emergency":   {Dist: "lognormal", SD: 0.05, Source: "assumption (derived from HES counts, ref §2)"},
		"rate.elective":    {Dist: "lognormal", SD: 0.10, Source: "assumption (inpatient share and age profile assumed)"},
		// Costs per event: the 2016-17 reference costs deflated by an
		// unverified 0.90, and a derived emergency cost: 10%; prescribing's
		// item cost is published: 3%. ASSUMPTION.
		"cost.outpatient":  {Dist: "lognormal", SD: 0.10, Source: "assumption (deflated 2016-17 reference cost, ref §3)"},
		"cost.prescribing": {Dist: "lognormal", SD: 0.03, Source: "assumption (published cost per item, ref §3)"},
		"cost.ae":          {Dist: "lognormal", SD: 0.10, Source: "assumption (deflated 2016-17 reference cost, ref §3)"},
		"cost.emergency":   {Dist: "lognormal", SD: 0.10, Source: "assumption (derived £11 bn / 5.0 m, ref §3)"},
		"cost.elective":    {Dist: "lognormal", SD: 0.10, Source: "assumption (deflated 2016-17 reference costs, ref §3)"},
		// Trends: items grew 4.1-4.7% a year [ref §2]: SD 0.5 points; no
		// figure for other streams: 0 ± 1 point (ASSUMPTION); item prices
		// moved -1.1% in one year [ref §3]: ± 1 point (ASSUMPTION).
		"demand_growth.outpatient":  {Dist: "normal", SD: 0.01, Source: "assumption"},
		"demand_growth.prescribing": {Dist: "normal", SD: 0.005, Source: "ref §2: 4.1-4.7% a year"},
		"demand_growth.ae":          {Dist: "normal", SD: 0.01, Source: "assumption"},
		"demand_growth.emergency":   {Dist: "normal", SD: 0.01, Source: "assumption"},
		"demand_growth.elective":    {Dist: "normal", SD: 0.01, Source: "assumption"},
		"price_growth.prescribing":  {Dist: "normal", SD: 0.01, Source: "assumption (one year's change, ref §3)"},
		// Drift and shocks [data]: the persistence's range over the years
		// (0.64-0.82) as about ±1 SD; the SDs' scales as measured on one
		// stream of one kind of practice, carried to the rest: 25% on
		// drift, 30% on area shocks, 50% on the national component (four
		// years). ASSUMPTION.
		"drift.persistence":  {Dist: "beta", SD: 0.08, Source: "data: payments files, lag-1 correlation of changes -0.09 to -0.18"},
		"drift.sd":           {Dist: "lognormal", SD: 0.25, Source: "assumption (measured on dispensing drug cost only)"},
		"shocks.area_sd":     {Dist: "lognormal", SD: 0.30, Source: "assumption (measured on dispensing drug cost only)"},
		"shocks.national_sd": {Dist: "lognormal", SD: 0.50, Source: "assumption (four yearly changes)"},
	}}
}
