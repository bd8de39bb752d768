package promo

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"minikart/modules/promo/internal/couponset"
	"minikart/platform/apperr"
	"minikart/platform/money"
	"minikart/platform/tracing"
)

// Code lengths, in characters, after trimming.
const (
	MinCodeLen = couponset.MinLen
	MaxCodeLen = couponset.MaxLen
)

// Line is one order line as the discount rules see it.
type Line struct {
	UnitPrice money.Cents
	Quantity  int
}

// Quote is the outcome of applying a valid code to an order.
type Quote struct {
	// Code is the canonical (trimmed, upper-case) code.
	Code     string
	Discount money.Cents
	// Limited is set when the code has a redemption limit, so the order
	// must call Redeem inside its transaction.
	Limited bool
}

// codeSet is what Apply needs from the loaded coupon set.
type codeSet interface {
	Lookup(code string) couponset.Verdict
	Len() int
}

var _ codeSet = (*couponset.Set)(nil)

// Service validates coupon codes against the loaded coupon set and prices
// their discounts. It is safe for concurrent use: the set is replaced
// atomically, so a request sees the set before a refresh or the one after,
// never a mix.
type Service struct {
	set     atomic.Pointer[codeSet]
	rules   *ruleBook
	metrics *metrics
	tracer  trace.Tracer
	// loadSet computes the set; tests hold it to observe loading.
	loadSet func(context.Context, couponset.Options) (*couponset.Set, couponset.Stats, error)

	// mu serialises loads; live, failed and generation belong to it.
	mu sync.Mutex
	// live is the fingerprint of the files the served set was made from.
	live string
	// failed is the fingerprint whose build failed; it is not built again
	// until the files change once more (or SIGHUP asks).
	failed     string
	generation int64
	// problem says why the files on disk are not the ones served (a failed
	// refresh); nil when they are. The health check reads it.
	problem atomic.Pointer[string]
	// about describes the served set for /health: where it came from and
	// which gzip decoder builds it.
	about atomic.Pointer[map[string]string]
}

// NewService takes the rules Config.Validate compiled; the coupon set is
// loaded later, by the start hook. Each coupon lookup is a span of tp's.
func NewService(c Config, m *metrics, tp trace.TracerProvider) (*Service, error) {
	if c.rules == nil {
		return nil, errors.New("promo: the configuration was not validated")
	}
	return &Service{rules: c.rules, metrics: m, tracer: tp.Tracer("minikart/modules/promo"), loadSet: couponset.Load}, nil
}

// Ready reports whether the coupon set is loaded.
func (s *Service) Ready() bool { return s.set.Load() != nil }

// swapIn makes set the one Apply consults.
func (s *Service) swapIn(set codeSet) { s.set.Store(&set) }

// Apply validates code and returns the discount it grants on lines. The
// code is trimmed and case-insensitive. Errors: ErrInvalidPromoLength,
// ErrInvalidPromoCode, or ErrPromoUnavailable while the set is loading.
// The lookup is a span (promo.lookup) whose promo.outcome attribute is the
// promo_validations_total outcome; the code itself is not recorded.
func (s *Service) Apply(ctx context.Context, code string, lines []Line) (Quote, error) {
	_, span := tracing.Child(ctx, s.tracer, "promo.lookup")
	defer span.End()
	q, outcome, err := s.apply(code, lines)
	s.metrics.validations.WithLabelValues(outcome).Inc()
	if span.IsRecording() {
		span.SetAttributes(attribute.String("promo.outcome", outcome))
	}
	return q, err
}

// apply is Apply, and the outcome it counts.
func (s *Service) apply(code string, lines []Line) (Quote, string, error) {
	code, ok := couponset.NormalizeCode(code)
	if !ok {
		return Quote{}, "invalid_length", ErrInvalidPromoLength.WithDetails(lengthDetail(utf8.RuneCountInString(code)))
	}
	set := s.set.Load()
	if set == nil {
		return Quote{}, "unavailable", ErrPromoUnavailable
	}
	if (*set).Lookup(code) != couponset.Valid {
		return Quote{}, "invalid", ErrInvalidPromoCode
	}
	r := s.rules.forCode(code)
	return Quote{Code: code, Discount: r.discount(lines), Limited: r.maxRedemptions > 0}, "valid", nil
}

// PriorUses counts, inside tx, the orders already stored with a code, not
// counting the one being placed.
type PriorUses func(ctx context.Context, tx sqlx.ExtContext) (int64, error)

// Redeem records one use of a code inside the caller's transaction (tx),
// enforcing the code's max_redemptions; ErrPromoExhausted past it. code is
// the canonical Quote.Code that Apply returned. Codes without a limit cost
// nothing here. The first redemption of a code under a limit starts its
// counter from prior, so a limit configured after the code was in use
// counts the orders that used it before; later ones only bump the counter.
func (s *Service) Redeem(ctx context.Context, tx sqlx.ExtContext, code string, prior PriorUses) error {
	r := s.rules.forCode(code)
	if r.maxRedemptions == 0 {
		return nil
	}
	return redeem(ctx, tx, code, r.maxRedemptions, prior)
}

// LimitedCodes are the codes the rules name with a max_redemptions of their
// own, sorted: the counters worth starting before their first order
// (StartCounter). A limit of the default rule applies to codes nobody
// names; their counters start at their first order.
func (s *Service) LimitedCodes() []string {
	var codes []string
	for code, r := range s.rules.codes {
		if r.maxRedemptions > 0 {
			codes = append(codes, code)
		}
	}
	sort.Strings(codes)
	return codes
}

// StartCounter starts code's redemption counter from prior (the orders
// stored with it so far) when it has none yet, outside any order, so the
// first order under a new limit only bumps a counter instead of waiting on
// a count. When an order got there first it does nothing (started false).
func (s *Service) StartCounter(ctx context.Context, db sqlx.ExtContext, code string, prior PriorUses) (started bool, err error) {
	return startCounter(ctx, db, code, prior)
}

func lengthDetail(n int) apperr.Detail {
	return apperr.Detail{Field: "couponCode", Message: fmt.Sprintf("has %d characters, want %d to %d", n, MinCodeLen, MaxCodeLen)}
}

// CanonicalCode is code as orders store it: trimmed, in upper case. Other
// modules compare a code a person typed with stored ones through it.
func CanonicalCode(code string) string {
	c, _ := couponset.NormalizeCode(code)
	return c
}
