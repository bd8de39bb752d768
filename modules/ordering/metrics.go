package ordering

import (
	"github.com/prometheus/client_golang/prometheus"

	platformmetrics "minikart/platform/metrics"
)

// metrics answer "how many orders, worth how much, discounted by how much".
type metrics struct {
	orders    *prometheus.CounterVec
	revenue   prometheus.Counter
	discounts prometheus.Counter
	replays   prometheus.Counter
	repriced  prometheus.Counter
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
		repriced: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "orders_repriced_total", Help: "Order attempts that wrote nothing because the menu had changed since they were priced, and were priced again.",
		}),
	}
	return m, platformmetrics.Register(reg, "ordering", m.orders, m.revenue, m.discounts, m.replays, m.repriced)
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
