module github.com/caddy-django/caddy-django/bench

go 1.26.0

require github.com/caddy-django/caddy-django v0.0.0

replace github.com/caddy-django/caddy-django => ../
