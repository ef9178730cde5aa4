{#- CH_E_SHARE: share of countable DONE orders taken through electronic channels (WEB, APP,
    IVR_10001), by accept_time. -#}
with

orders as (
    select * from {{ ref('fct_orders') }}
),

items as (
    select
        city_code,
        case when is_electronic_channel then 1 else 0 end as numerator,
        1 as denominator
    from orders
    where
        is_countable
        and status = 'DONE'
        and {{ in_period('accept_time') }}
)

{{ rollup_indicator('CH_E_SHARE', 'items') }}
