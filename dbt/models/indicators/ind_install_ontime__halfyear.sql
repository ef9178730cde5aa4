{#- OR_INSTALL_ONTIME (by area_type too): countable NEW_INSTALL orders of FIXED / BROADBAND,
    timeliness rule from accept_time to complete_time with the order's own limit
    promise_time - accept_time; orders without promise_time have no limit and do not count. -#}
with

orders as (
    select * from {{ ref('fct_orders') }}
),

items as (
    select
        city_code,
        area_type as breakdown,
        {{ timeliness_numerator('accept_time', 'complete_time', 'install_limit') }} as numerator,
        {{ timeliness_denominator('accept_time', 'complete_time', 'install_limit') }} as denominator
    from orders
    where
        is_countable
        and order_type = 'NEW_INSTALL'
        and product in ('FIXED', 'BROADBAND')
        and install_limit is not null
        and {{ in_period('accept_time') }}
)

{{ rollup_indicator('OR_INSTALL_ONTIME', 'items', breakdown_type='area_type') }}
