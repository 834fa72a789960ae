package broker

import "time"

// rateLimiter is a token bucket of one connection's PUBLISH rate; used only
// by the connection's reader goroutine. The zero value never limits.
type rateLimiter struct {
	rate   float64 // tokens per second; 0: no limit
	tokens float64
	last   time.Time
}

func newRateLimiter(perSecond int) rateLimiter {
	return rateLimiter{rate: float64(perSecond), tokens: float64(perSecond), last: time.Now()}
}

// limited takes a token and reports whether there was none.
func (r *rateLimiter) limited() bool {
	if r.rate == 0 {
		return false
	}
	now := time.Now()
	r.tokens = min(r.rate, r.tokens+now.Sub(r.last).Seconds()*r.rate)
	r.last = now
	if r.tokens < 1 {
		return true
	}
	r.tokens--
	return false
}
