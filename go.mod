module minikart

go 1.26.8
