{#- CH_WAIT_AVG: average queue wait in minutes at outlets: sum(queue_wait_sec) / 60 over
    countable DONE OUTLET orders with a queue_wait_sec, by accept_time (scale 1). -#}
with

orders as (
    select * from {{ ref('fct_orders') }}
),

items as (
    select
        city_code,
        queue_wait_sec as numerator,
        1 as denominator
    from orders
    where
        is_countable
        and channel_type = 'OUTLET'
        and status = 'DONE'
        and queue_wait_sec is not null
        and {{ in_period('accept_time') }}
)

-- seconds summed first, then one exact division into minutes
{{ rollup_indicator('CH_WAIT_AVG', 'items', numerator_divisor=60) }}
