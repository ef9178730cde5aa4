{#- CH_HANDLE_AVG: average handling time in minutes at outlets: sum(handle_sec) / 60 over
    countable DONE OUTLET orders with a handle_sec (queue_wait_sec may be NULL), by
    accept_time (scale 1). -#}
with

orders as (
    select * from {{ ref('fct_orders') }}
),

items as (
    select
        city_code,
        handle_sec as numerator,
        1 as denominator
    from orders
    where
        is_countable
        and channel_type = 'OUTLET'
        and status = 'DONE'
        and handle_sec is not null
        and {{ in_period('accept_time') }}
)

-- seconds summed first, then one exact division into minutes
{{ rollup_indicator('CH_HANDLE_AVG', 'items', numerator_divisor=60) }}
