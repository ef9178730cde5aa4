{#- Customers of the CRM_CUSTOMER snapshot for the period, without personal data (no name,
    ID number or phone, not even pseudonyms): city, segment, value tier, join date. -#}
with

customers as (
    select * from {{ ref('stg_crm__customers') }}
    where {{ period_snapshot_filter(ref('stg_crm__customers')) }}
),

final as (
    select
        customer_id,
        city_code,
        segment,
        value_tier,
        join_date,
        coalesce(join_date <= {{ period_last_day() }}, false) as is_joined_by_last_day,
        snapshot_date
    from customers
)

select * from final
