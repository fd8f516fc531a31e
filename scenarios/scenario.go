// Package scenarios decodes, fills in and validates gpbudget scenario files
// (YAML) and turns them into the engine's sim.Model. A scenario file states
// only what differs from the defaults; every default, with its source, is in
// defaults.go, and Resolved scenarios (as written to a run's manifest) carry
// every value.
package scenarios

// Scenario is one scenario file. Units: money in pounds at 2009-10 prices,
// rates in events per person-year, probabilities as fractions.
type Scenario struct {
	Name        string `yaml:"name" json:"name" jsonschema_description:"Scenario name, written to every result row."`
	Description string `yaml:"description,omitempty" json:"description,omitempty" jsonschema_description:"What the scenario represents and its sources."`
	// Run defaults; flags override them.
	Seed         uint64 `yaml:"seed" json:"seed" jsonschema_description:"Default random seed (the --seed flag overrides it)."`
	Replications int    `yaml:"replications" json:"replications" jsonschema:"minimum=1" jsonschema_description:"Default number of Monte Carlo replications (--reps overrides it)."`
	Years        int    `yaml:"years" json:"years" jsonschema:"minimum=1,maximum=50" jsonschema_description:"Default number of simulated budget years after the base year (--years overrides it)."`
	PriceYear    string `yaml:"price_year" json:"price_year" jsonschema_description:"Price year of all money amounts (informational)."`

	Population Population `yaml:"population" json:"population"`
	Streams    Streams    `yaml:"streams" json:"streams"`
	Frailty    Frailty    `yaml:"frailty" json:"frailty"`
	Demography Demography `yaml:"demography" json:"demography"`
	Budget     Budget     `yaml:"budget" json:"budget"`
	Rule       Rule       `yaml:"rule" json:"rule"`
	StopLoss   *StopLoss  `yaml:"stop_loss,omitempty" json:"stop_loss,omitempty" jsonschema_description:"Per-patient annual stop-loss; omit for none."`
	Behaviour  Behaviour  `yaml:"behaviour" json:"behaviour"`
	Lists      Lists      `yaml:"lists" json:"lists" jsonschema_description:"List dynamics beyond births, deaths and turnover: drift, jumps, closures and mergers, measured on NHS payments files; off unless lists.dynamics is true."`
	Limits     Limits     `yaml:"limits" json:"limits" jsonschema_description:"Bounds on what one run may cost (memory and time); raise them to run something larger. A run past one is refused before it starts."`
	// Today's contracts (contract.go).
	Contract          *Contract  `yaml:"contract,omitempty" json:"contract,omitempty" jsonschema_description:"A shared-savings contract's terms (rule type shared_savings only; fields left out take Medicare's BASIC track's)."`
	Incentive         *Incentive `yaml:"incentive,omitempty" json:"incentive,omitempty" jsonschema_description:"An incentive payment for taking part or meeting local targets (any rule type); omit for none."`
	CommissionerLabel string     `yaml:"commissioner_label" json:"commissioner_label" jsonschema_description:"What printed output calls the commissioner (PCT, ICB, health authority); the data's party name stays commissioner."`

	// Risk beyond chance: chance_only, drift, shocks, trends,
	// risk_adjustment, uncertainty (risk.go).
	Risk `yaml:",inline"`

	file string // the file Parse read, for errors
}

// BySexBand is a value for each sex and five-year age band (0-4, 5-9, ..., 90-94, 95+).
type BySexBand struct {
	Male   []float64 `yaml:"male" json:"male" jsonschema:"minItems=20,maxItems=20" jsonschema_description:"20 values, bands 0-4 ... 90-94, 95+."`
	Female []float64 `yaml:"female" json:"female" jsonschema:"minItems=20,maxItems=20" jsonschema_description:"20 values, bands 0-4 ... 90-94, 95+."`
}

// Population is either a synthetic area or an explicit list of practices.
type Population struct {
	Seed           *uint64             `yaml:"seed,omitempty" json:"seed,omitempty" jsonschema_description:"Seed for the practices' fixed characteristics; default: the run seed."`
	Synthetic      *SyntheticPractices `yaml:"synthetic,omitempty" json:"synthetic,omitempty" jsonschema_description:"A synthetic area (ignored when practices are listed)."`
	Practices      []PracticeSpec      `yaml:"practices,omitempty" json:"practices,omitempty" jsonschema_description:"Explicit practices; when given, synthetic is not used."`
	England        *EnglandPopulation  `yaml:"england,omitempty" json:"england,omitempty" jsonschema_description:"England's real practices, built in (all of England or one area's): their lists, PCNs, places, ICBs, regions and need; the practices are filled in from the table, and synthetic's age_share gives the lists' imputed age-sex mix."`
	StyleCorr      float64             `yaml:"style_correlation" json:"style_correlation" jsonschema:"minimum=-0.25,maximum=1" jsonschema_description:"Correlation of a practice's (fixed) styles between streams."`
	ListsAtYearOne bool                `yaml:"lists_at_year_one,omitempty" json:"lists_at_year_one,omitempty" jsonschema_description:"The practices' lists are those at the start of budget year 1 (as in a list-size file): the base year is simulated on the same list. Default: the lists are the base year's and move on a year before year 1."`
}

// SyntheticPractices draws an area's practices.
type SyntheticPractices struct {
	Practices    int       `yaml:"practices" json:"practices" jsonschema:"minimum=1,maximum=20000" jsonschema_description:"Number of practices (England had about 8,300 in 2009-10)."`
	ListSizeMean float64   `yaml:"list_size_mean" json:"list_size_mean" jsonschema:"exclusiveMinimum=0" jsonschema_description:"Mean registered list size (patients)."`
	ListSizeSD   float64   `yaml:"list_size_sd" json:"list_size_sd" jsonschema:"minimum=0" jsonschema_description:"SD of list size (patients); lists are lognormal."`
	MinList      int       `yaml:"min_list" json:"min_list" jsonschema:"minimum=1" jsonschema_description:"Smallest list size drawn (patients)."`
	MaxList      int       `yaml:"max_list" json:"max_list" jsonschema:"minimum=1" jsonschema_description:"Largest list size drawn (patients)."`
	AgeShare     BySexBand `yaml:"age_share" json:"age_share" jsonschema_description:"Area age-sex structure (relative shares)."`
	AgeTiltSD    float64   `yaml:"age_tilt_sd" json:"age_tilt_sd" jsonschema:"minimum=0" jsonschema_description:"SD of a practice's tilt towards younger or older patients (log-share per 10 bands)."`
	Areas        int       `yaml:"areas" json:"areas" jsonschema:"minimum=1" jsonschema_description:"Number of places (consecutive blocks of practices) whose practices share a place's shocks; 1 leaves places to geography.place."`
	Geography    Geography `yaml:"geography" json:"geography" jsonschema_description:"People per unit at each level whose practices share common shocks: consecutive practices fill a neighbourhood, neighbourhoods a place, places an ICB, ICBs a region."`
	NeedSD       float64   `yaml:"need_sd" json:"need_sd" jsonschema:"minimum=0" jsonschema_description:"Log-scale SD of the practices' need index (mean 1)."`
	NeedCorr     float64   `yaml:"need_correlation" json:"need_correlation" jsonschema:"minimum=0,maximum=1" jsonschema_description:"Correlation of a practice's need indices between streams (1: one index for every stream)."`
	IDPrefix     string    `yaml:"id_prefix" json:"id_prefix" jsonschema_description:"Practice ids are this prefix and a number."`
	// Lists, set by programs (never by a file), are the practices' list
	// sizes in place of the drawn ones (sim.Synthetic.Lists).
	Lists []int `yaml:"-" json:"-"`
}

// PracticeSpec is one explicit practice.
type PracticeSpec struct {
	ID            string             `yaml:"id" json:"id" jsonschema_description:"Practice code."`
	Need          float64            `yaml:"need" json:"need" jsonschema:"exclusiveMinimum=0" jsonschema_description:"Need (deprivation) index, 1 = average."`
	Area          string             `yaml:"area,omitempty" json:"area,omitempty" jsonschema_description:"Place (commissioner code: CCG, sub-ICB location) whose practices share a place's shocks; empty is one place."`
	Neighbourhood string             `yaml:"neighbourhood,omitempty" json:"neighbourhood,omitempty" jsonschema_description:"Neighbourhood (primary care network code) whose practices share its shocks; empty is one."`
	ICB           string             `yaml:"icb,omitempty" json:"icb,omitempty" jsonschema_description:"ICB code whose practices share its shocks; empty is one."`
	Region        string             `yaml:"region,omitempty" json:"region,omitempty" jsonschema_description:"NHS England region code whose practices share its shocks; empty is one."`
	Group         string             `yaml:"group,omitempty" json:"group,omitempty" jsonschema_description:"Budget-holding group (consortium), if any."`
	Style         map[string]float64 `yaml:"style,omitempty" json:"style,omitempty" jsonschema_description:"Style multiplier by stream name (mean 1); omitted streams are drawn from the stream's style_sd."`
	List          struct {
		Male   []int `yaml:"male" json:"male" jsonschema:"minItems=20,maxItems=20"`
		Female []int `yaml:"female" json:"female" jsonschema:"minItems=20,maxItems=20"`
	} `yaml:"list" json:"list" jsonschema_description:"Registered patients by sex and band (20 each)."`
}

// Streams holds the five cost streams.
type Streams struct {
	Outpatient  Stream `yaml:"outpatient" json:"outpatient"`
	Prescribing Stream `yaml:"prescribing" json:"prescribing"`
	AE          Stream `yaml:"ae" json:"ae"`
	Emergency   Stream `yaml:"emergency" json:"emergency"`
	Elective    Stream `yaml:"elective" json:"elective"`
}

// Stream is one cost stream's rates and costs.
type Stream struct {
	Rate              BySexBand `yaml:"rate" json:"rate" jsonschema_description:"Events per person-year by sex and band, at mean frailty, need 1, average style."`
	Dispersion        float64   `yaml:"dispersion" json:"dispersion" jsonschema:"minimum=0" jsonschema_description:"Negative-binomial shape r of a year's count given frailty (variance mu + mu^2/r); 0 = Poisson."`
	FrailtyLoading    float64   `yaml:"frailty_loading" json:"frailty_loading" jsonschema:"minimum=0" jsonschema_description:"Exponent on the frailty level (1 = fully concentrated in the frail)."`
	NeedElasticity    float64   `yaml:"need_elasticity" json:"need_elasticity" jsonschema:"minimum=0" jsonschema_description:"Rate multiplier is need^elasticity."`
	StyleSD           float64   `yaml:"style_sd" json:"style_sd" jsonschema:"minimum=0" jsonschema_description:"Log-scale SD of practice style (referral or prescribing) between practices."`
	RateUncertaintySD float64   `yaml:"rate_uncertainty_sd" json:"rate_uncertainty_sd" jsonschema:"minimum=0" jsonschema_description:"Log-scale SD of a rate multiplier drawn once per replication (parameter uncertainty)."`
	Cost              Cost      `yaml:"cost" json:"cost"`
}

// Cost is the distribution of cost per event.
type Cost struct {
	Family string     `yaml:"family" json:"family" jsonschema:"enum=lognormal,enum=gamma" jsonschema_description:"lognormal: each event's cost from a lognormal mixture; gamma: per-event Gamma costs summed exactly (one part)."`
	Parts  []CostPart `yaml:"parts" json:"parts" jsonschema:"minItems=1"`
}

// CostPart is one component of the cost mixture.
type CostPart struct {
	Name  string  `yaml:"name" json:"name"`
	Share float64 `yaml:"share" json:"share" jsonschema:"minimum=0,maximum=1" jsonschema_description:"Share of events of this kind; shares sum to 1."`
	Mean  float64 `yaml:"mean" json:"mean" jsonschema:"minimum=0" jsonschema_description:"Mean cost per event (pounds)."`
	CV    float64 `yaml:"cv" json:"cv" jsonschema:"minimum=0" jsonschema_description:"Coefficient of variation of cost per event."`
}

// Frailty is the Markov chain of latent need (see sim.Frailty).
type Frailty struct {
	Share       []float64 `yaml:"share" json:"share" jsonschema_description:"Stationary share of patients in each state (sums to 1)."`
	Level       []float64 `yaml:"level" json:"level" jsonschema_description:"Relative need in each state."`
	Persistence []float64 `yaml:"persistence" json:"persistence" jsonschema_description:"Probability of staying in a state another year, in [0,1)."`
	Mortality   []float64 `yaml:"mortality" json:"mortality" jsonschema_description:"Relative death rate in each state."`
	ByAge       bool      `yaml:"by_age" json:"by_age" jsonschema_description:"Each age-sex band's mix of states is the chain's equilibrium there (the frail die sooner), and rates and death rates are normalised per band to it, so the mix does not drift."`
}

// Demography drives list change.
type Demography struct {
	Mortality      BySexBand `yaml:"mortality" json:"mortality" jsonschema_description:"Annual probability of death by sex and band."`
	BirthRate      float64   `yaml:"birth_rate" json:"birth_rate" jsonschema:"minimum=0,maximum=1" jsonschema_description:"Live births per woman aged 15-44 per year."`
	MaleBirthShare float64   `yaml:"male_birth_share" json:"male_birth_share" jsonschema:"minimum=0,maximum=1"`
	Turnover       float64   `yaml:"turnover" json:"turnover" jsonschema:"minimum=0,maximum=1" jsonschema_description:"Annual probability of leaving the list; as many join."`
}

// Budget says how budgets are set.
type Budget struct {
	Method        string     `yaml:"method" json:"method" jsonschema:"enum=capitation,enum=historic,enum=blend" jsonschema_description:"capitation: a fair share from the list's age, sex and need; historic: past spend (historic_years) times (1 + uplift); blend: last year's budget times (1 + uplift), moved pace of the way towards capitation each year."`
	Uplift        float64    `yaml:"uplift" json:"uplift" jsonschema:"minimum=-0.5,maximum=1" jsonschema_description:"Annual uplift on historic budgets (fraction, real terms)."`
	Pace          float64    `yaml:"pace" json:"pace" jsonschema:"minimum=0,maximum=1" jsonschema_description:"Share of the gap to capitation closed each year (blend)."`
	Weights       *BySexBand `yaml:"weights,omitempty" json:"weights,omitempty" jsonschema_description:"Supplied per-head capitation weights (relative); omit to use the model's expected costs."`
	Project       bool       `yaml:"project" json:"project" jsonschema_description:"Historic and blend budgets are projected forward by how each practice's expected spend has moved since the years they are set from: its list (size and age-sex mix) at the start of the budget year, and the trends' expected growth (before any uplift), as a commissioner with a projection would. false: only the uplift moves them, and budgets fall behind a list that grows or ages and behind the trends."`
	Trend         string     `yaml:"trend" json:"trend" jsonschema:"enum=expected,enum=realised" jsonschema_description:"The growth a projection uses: expected (the trends' point values, what could be known before the year) or realised (national growth as it turned out in the year, as Medicare updates its benchmark after the year); realised takes out what a holder shares with every holder in the country. Needs project: true."`
	Lag           int        `yaml:"lag" json:"lag" jsonschema:"minimum=1,maximum=5" jsonschema_description:"Budget-setting lag: historic budgets for year t are set from spend up to year t-lag (2: the year before last, the last complete year when budgets are set), uplifted for each year since."`
	HistoricYears int        `yaml:"historic_years" json:"historic_years" jsonschema:"minimum=1,maximum=10" jsonschema_description:"Years of past spend a historic budget averages (1 = last year; fewer are used while fewer exist)."`
	TopSlice      float64    `yaml:"top_slice" json:"top_slice" jsonschema:"minimum=0,maximum=0.5" jsonschema_description:"Share of each budget the commissioner keeps back as a contingency reserve (fraction)."`
	IssueWeek     float64    `yaml:"issue_week" json:"issue_week" jsonschema:"minimum=0,maximum=52" jsonschema_description:"Week of the financial year (from 1 April) in which practices receive budgets; behaviour effects act on the rest of the year only."`
}

// Rule is the budget rule and who takes part.
type Rule struct {
	Type           string  `yaml:"type" json:"type" jsonschema:"enum=indicative,enum=hard,enum=fundholding,enum=shared_savings" jsonschema_description:"indicative: practice-based commissioning (the commissioner carries overspends); hard: Conservative real budgets (the holder keeps savings and carries deficits); fundholding: a hard budget over covered_streams only, usually with a stop_loss; shared_savings: today's risk-sharing contracts (the commissioner pays for care; the holder shares savings, and under a two-sided contract losses, beyond a corridor: see contract)."`
	RetentionShare float64 `yaml:"retention_share" json:"retention_share" jsonschema:"minimum=0,maximum=1" jsonschema_description:"Share of an underspend (freed-up resources) the budget holder keeps to reinvest (fraction)."`
	Participation  float64 `yaml:"participation" json:"participation" jsonschema:"minimum=0,maximum=1" jsonschema_description:"Share of practices engaged (holding a budget); the others stay with the commissioner. Which practices engage is drawn per replication."`

	MinListSize int `yaml:"min_list_size" json:"min_list_size" jsonschema:"minimum=0" jsonschema_description:"Practices with fewer patients than this cannot take part (fundholding's entry threshold); 0 = all eligible."`

	// Indicative (PBC) options.
	BusinessCase     BusinessCase `yaml:"business_case" json:"business_case"`
	MakeUpOverspends bool         `yaml:"make_up_overspends" json:"make_up_overspends" jsonschema_description:"Indicative: a practice must make up earlier overspends from later savings before it retains any."`
	RefuseInDeficit  bool         `yaml:"refuse_in_deficit" json:"refuse_in_deficit" jsonschema_description:"Indicative: in a year when the commissioner overspends (budgets plus top-slice), no practice retains savings."`
	EarnedAutonomy   Autonomy     `yaml:"earned_autonomy" json:"earned_autonomy"`

	// Hard and fundholding options.
	RepayYears     int        `yaml:"repay_years" json:"repay_years" jsonschema:"minimum=0,maximum=10" jsonschema_description:"Hard: a year's deficit is deducted from the next N years' budgets in equal parts; 0 = repaid from later underspends before savings are kept."`
	DeficitCap     float64    `yaml:"deficit_cap" json:"deficit_cap" jsonschema:"minimum=0,maximum=10" jsonschema_description:"Hard: outstanding deficit above this share of the holder's yearly budget is written off to the commissioner's reserve (failure regime); 0 = no cap."`
	PoolShare      float64    `yaml:"pool_share" json:"pool_share" jsonschema:"minimum=0,maximum=0.5" jsonschema_description:"Hard: share of each budget paid yearly into an area-wide risk pool that pays overspends (the commissioner's reserve pays what it cannot), in place of carried deficits; 0 = no pool."`
	Consortium     Consortium `yaml:"consortium" json:"consortium"`
	CoveredStreams []string   `yaml:"covered_streams,omitempty" json:"covered_streams,omitempty" jsonschema_description:"Fundholding: the streams the fund covers (others stay with the commissioner)."`
}

// BusinessCase is PBC's condition on retaining freed-up resources.
type BusinessCase struct {
	Required        bool    `yaml:"required" json:"required" jsonschema_description:"Indicative: savings are retained only if a business case is approved in time."`
	ApprovalProb    float64 `yaml:"approval_prob" json:"approval_prob" jsonschema:"minimum=0,maximum=1" jsonschema_description:"Probability the commissioner approves a business case."`
	TurnaroundWeeks float64 `yaml:"turnaround_weeks" json:"turnaround_weeks" jsonschema:"minimum=0,maximum=104" jsonschema_description:"Mean weeks to a decision (exponential); 0 = immediate."`
	LapseWeeks      float64 `yaml:"lapse_weeks" json:"lapse_weeks" jsonschema:"minimum=0,maximum=104" jsonschema_description:"A decision later than this many weeks comes too late and the resources return to the commissioner; 0 = no limit."`
}

// Autonomy is earned autonomy: indicative to hard after a record of control.
type Autonomy struct {
	Years int     `yaml:"years" json:"years" jsonschema:"minimum=0,maximum=50" jsonschema_description:"Indicative: after this many consecutive years with spend within band of budget a practice moves to a hard budget; 0 = never."`
	Band  float64 `yaml:"band" json:"band" jsonschema:"minimum=0,maximum=1" jsonschema_description:"Band around the budget (fraction of budget) that counts as managing it."`
}

// Consortium groups practices into budget-holding consortia that pool risk.
type Consortium struct {
	By               string `yaml:"by" json:"by" jsonschema:"enum=none,enum=supplied,enum=population,enum=all,enum=pcn,enum=place,enum=icb,enum=region,enum=pcn_groups" jsonschema_description:"none: each practice holds its own budget; supplied: practices' group field; population: consecutive practices grouped until each group reaches target_population (neighbourhoods of about 50,000, multi-neighbourhood providers of about 250,000); all: one holder for the whole population (an integrated health organisation); pcn, place, icb, region: the practices' real unit at that level (population.england, or practices' neighbourhood, area, icb, region codes) holds the budget, named by its code; pcn_groups: whole PCNs of one place, consecutive, grouped until each group reaches target_population (a multi-neighbourhood provider of real networks)."`
	TargetPopulation int    `yaml:"target_population" json:"target_population" jsonschema:"minimum=1" jsonschema_description:"Patients per consortium when by = population."`
	NamePrefix       string `yaml:"name_prefix" json:"name_prefix" jsonschema_description:"Groups made by population or all are named this prefix and a number (C001, NP001, IHO001)."`
}

// Behaviour is how budget holders manage demand (see sim.Behaviour).
type Behaviour struct {
	Indicative            RegimeEffects `yaml:"indicative" json:"indicative" jsonschema_description:"Effects on practices holding indicative budgets."`
	Hard                  RegimeEffects `yaml:"hard" json:"hard" jsonschema_description:"Effects on practices holding hard budgets (and fundholding)."`
	SubstitutionAE        float64       `yaml:"substitution_ae" json:"substitution_ae" jsonschema:"minimum=0,maximum=5" jsonschema_description:"Proportional rise in A&E attendances per proportional fall in outpatient referrals."`
	SubstitutionEmergency float64       `yaml:"substitution_emergency" json:"substitution_emergency" jsonschema:"minimum=0,maximum=5" jsonschema_description:"Proportional rise in emergency admissions per proportional fall in elective admissions."`
}

// RegimeEffects are the behaviour effects under one regime.
type RegimeEffects struct {
	Outpatient  Effect `yaml:"outpatient" json:"outpatient"`
	Prescribing Effect `yaml:"prescribing" json:"prescribing"`
	Elective    Effect `yaml:"elective" json:"elective"`
}

// Effect is a proportional change in a stream's rate, uncertain: Normal(mean, sd)
// drawn once per replication, kept within [-0.9, 1].
type Effect struct {
	Mean float64 `yaml:"mean" json:"mean" jsonschema:"minimum=-0.9,maximum=1" jsonschema_description:"Mean proportional change in the rate (-0.03 = 3% fewer)."`
	SD   float64 `yaml:"sd" json:"sd" jsonschema:"minimum=0,maximum=1" jsonschema_description:"SD of the change across replications (parameter uncertainty)."`
}

// StopLoss is a per-patient annual stop-loss.
type StopLoss struct {
	Threshold float64  `yaml:"threshold" json:"threshold" jsonschema:"exclusiveMinimum=0" jsonschema_description:"Pounds a year per patient above which the commissioner pays."`
	Streams   []string `yaml:"streams" json:"streams" jsonschema_description:"Streams the stop-loss covers."`
	Uprating  float64  `yaml:"uprating" json:"uprating" jsonschema:"minimum=-0.5,maximum=1" jsonschema_description:"Yearly growth of the threshold after year 1 (fraction)."`
}
