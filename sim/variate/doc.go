// Package variate holds the random variates the engine draws from, one
// file per distribution, laid out as gonum's stat/distuv is: each is a
// small value type holding its parameters (and whatever is worth computing
// from them once), with Rand drawing one variate from a generator passed
// in. The generator is math/rand/v2's PCG, concrete, so the engine's hot
// loops make direct, inlinable calls and never an interface call. No type
// keeps hidden state between draws (Polar's cached second variate is a
// field of the value its caller owns); the package's only variables are
// read-only tables computed once at start (the ziggurat's layers, log k!,
// 1/k and 2^(k/64)). Every sampler is exact up to floating point, and each
// says how, with its reference [ref §10] (listed in full in
// docs/references.md).
package variate
