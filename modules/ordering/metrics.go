package ordering

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics answer "how many orders, worth how much, discounted by how much".
type metrics struct {
	orders    *prometheus.CounterVec
	revenue   prometheus.Counter
	discounts prometheus.Counter
	replays   prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		orders: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "orders_placed_total", Help: "Orders stored, by whether a coupon was applied.",
		}, []string{"coupon"}),
		revenue: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "orders_total_amount", Help: "Sum of order totals (after discounts), in currency units.",
		}),
		discounts: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "orders_discount_amount", Help: "Sum of discounts granted, in currency units.",
		}),
		replays: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "orders_idempotent_replays_total", Help: "Order requests answered from a stored Idempotency-Key response.",
		}),
	}
	for _, c := range []prometheus.Collector{m.orders, m.revenue, m.discounts, m.replays} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register ordering metrics: %w", err)
		}
	}
	return m, nil
}

func (m *metrics) placed(o storedOrder) {
	coupon := "no"
	if o.CouponCode != "" {
		coupon = "yes"
	}
	m.orders.WithLabelValues(coupon).Inc()
	m.revenue.Add(float64(o.Total) / 100)
	m.discounts.Add(float64(o.Discount) / 100)
}
