{#- CR_CARE_COVER: HIGH-value customers of the period's snapshot who joined by the last day,
    with >= 1 care contact in the period; city of the customer. -#}
with

customers as (
    select * from {{ ref('dim_customer') }}
),

cared as (
    select distinct customer_id
    from {{ ref('fct_care_contacts') }}
    where {{ in_period('contact_time') }}
),

items as (
    select
        customers.city_code,
        case when cared.customer_id is not null then 1 else 0 end as numerator,
        1 as denominator
    from customers
    left join cared on customers.customer_id = cared.customer_id
    where
        customers.value_tier = 'HIGH'
        and customers.join_date <= {{ period_last_day() }}
)

{{ rollup_indicator('CR_CARE_COVER', 'items') }}
