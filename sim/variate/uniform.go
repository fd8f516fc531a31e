package variate

// Unit converts 64 random bits to a float64 uniform on [0, 1), as
// math/rand/v2 does: the top 53 bits times 2^-53.
func Unit(x uint64) float64 { return float64(x>>11) * 0x1p-53 }
