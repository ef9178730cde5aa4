{#- OR_RESUME_ONTIME: countable RESUME orders with a payment_time, timeliness rule from
    payment_time to complete_time, limit 30 min from the time_limits seed. -#}
with

orders as (
    select * from {{ ref('fct_orders') }}
),

items as (
    select
        city_code,
        {{ timeliness_numerator('payment_time', 'complete_time', 'resume_limit') }} as numerator,
        {{ timeliness_denominator('payment_time', 'complete_time', 'resume_limit') }} as denominator
    from orders
    where
        is_countable
        and order_type = 'RESUME'
        and payment_time is not null
        and resume_limit is not null
        and {{ in_period('payment_time') }}
)

{{ rollup_indicator('OR_RESUME_ONTIME', 'items') }}
