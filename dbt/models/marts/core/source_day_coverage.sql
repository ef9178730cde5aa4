{#- Items per source entity, local business day and city: what the gate's coverage check
    reads to refuse a period with missing city-days (no indicator from partial data). -#}
with

calls as (
    select 'CC_CALL' as entity, {{ local_date('call_start') }} as business_date, city_code
    from {{ ref('stg_cc__calls') }}
),

orders as (
    select 'BSS_ORDER' as entity, {{ local_date('accept_time') }} as business_date, city_code
    from {{ ref('stg_bss__orders') }}
),

items as (
    select * from calls
    union all
    select * from orders
),

final as (
    select
        entity,
        business_date,
        city_code,
        count(*) as item_count
    from items
    group by entity, business_date, city_code
)

select * from final
