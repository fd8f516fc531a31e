package sim

import (
	"math"
	"math/rand/v2"
)

// Purpose names what a random stream is for. Together with the seed, the
// replication, the practice and the year it forms the stream's key, so every
// draw is fixed by what it models and never by which worker, shard or
// machine happens to compute it.
type Purpose uint64

const (
	PurposeCounts       Purpose = iota + 1 // a patient-year: three words for its counts and demography (patientdraws.go)
	PurposeCosts                           // cost per event
	PurposeDemography                      // cohort mode's frailty transitions, deaths, leavers (a patient-year's are in its counts words)
	PurposeJoiners                         // births and new registrations
	PurposeInitial                         // initial frailty states of the list
	PurposeParameters                      // per-replication draws of uncertain parameters
	PurposePopulation                      // synthetic practice characteristics (fixed per scenario and seed)
	PurposeAges                            // ages within band of the starting list
	PurposeRules                           // chance events in budget rules (e.g. business-case approval)
	PurposeCostsB                          // a second cost stream, so two chains of cost draws run side by side
	PurposeTargets                         // whether holders meet an incentive scheme's local targets
	PurposeLists                           // a practice-year's list change, and where a leaving practice's patients go
	PurposeListEvents                      // a replication's list events: closures, mergers, the year's drift
	PurposeDrift                           // practice effects that drift (per practice-year)
	PurposeShocks                          // common shocks (per area-year and nation-year)
	PurposeThin                            // thinning a year's counts from the tables' rates to its own
	PurposePriors                          // parameter priors (per replication)
	PurposeFormula                         // the sample a capitation formula is estimated from
	PurposeThinPatients                    // thinning counts patient by patient (streams a stop-loss covers)
	PurposeLevelShocks                     // common shocks of neighbourhoods, ICBs and regions (per unit-year)
)

// mix64 is the SplitMix64 finaliser (Steele, Lea & Flood, OOPSLA 2014): a
// bijection on 64-bit words whose output bits each depend on every input bit.
func mix64(z uint64) uint64 {
	z ^= z >> 30
	z *= 0xbf58476d1ce4e5b9
	z ^= z >> 27
	z *= 0x94d049bb133111eb
	z ^= z >> 31
	return z
}

// Key is what a random stream models: the run's seed, and the replication,
// practice and year the stream belongs to (-1 where it belongs to none;
// other negative numbers name further streams of the same kind). With a
// Purpose it fixes the stream, so every draw is fixed by what it models and
// never by which worker, shard or machine happens to compute it.
type Key struct {
	Seed                uint64
	Rep, Practice, Year int
}

// TaskKey is the key of practice i in replication rep, before any year.
func TaskKey(seed uint64, rep, i int) Key { return Key{Seed: seed, Rep: rep, Practice: i, Year: -1} }

// At returns the key for year y.
func (k Key) At(y int) Key {
	k.Year = y
	return k
}

// words hashes the key and purpose into two 64-bit words for seeding a PCG.
func (k Key) words(p Purpose) (uint64, uint64) {
	h := mix64(k.Seed ^ 0x9e3779b97f4a7c15)
	h = mix64(h ^ uint64(p)*0xd1b54a32d192ed03)
	h = mix64(h ^ uint64(int64(k.Rep))*0x8cb92ba72f3d8dd7)
	h = mix64(h ^ uint64(int64(k.Practice))*0xa0761d6478bd642f)
	h = mix64(h ^ uint64(int64(k.Year))*0xe7037ed1a0b428db)
	return h, mix64(h ^ 0x2545f4914f6cdd1d)
}

// unit converts 64 random bits to a float64 uniform on [0, 1), as math/rand/v2 does.
func unit(x uint64) float64 { return float64(x>>11) * 0x1p-53 }

// Draws bundles the samplers the model needs over one concrete generator, so
// the hot loop makes direct calls rather than calls through rand.Source.
type Draws struct {
	G     rand.PCG
	spare float64
	has   bool
}

// Reseed re-keys the generator, in place, for the stream of key k and
// purpose p, and forgets any cached normal.
func (d *Draws) Reseed(k Key, p Purpose) {
	d.G.Seed(k.words(p))
	d.has = false
}

// Uint64 returns 64 uniform random bits.
func (d *Draws) Uint64() uint64 { return d.G.Uint64() }

// Float64 returns a uniform on [0, 1).
func (d *Draws) Float64() float64 { return unit(d.G.Uint64()) }

// ExpMeanOne returns exp(sd·z - sd²/2): a lognormal multiplier with mean 1
// for a standard normal z.
func ExpMeanOne(sd, z float64) float64 { return math.Exp(sd*z - sd*sd/2) }

// BaselineDraws draws n words from a PCG keyed like a counts stream and returns their
// XOR (so the loop cannot be optimised away): the least work any sampler on
// this generator can do for n uniforms, which benchmarks report the kernel
// against.
func BaselineDraws(seed uint64, n int) uint64 {
	var g rand.PCG
	g.Seed(Key{Seed: seed}.words(PurposeCounts))
	x := uint64(0)
	for range n {
		x ^= g.Uint64()
	}
	return x
}
