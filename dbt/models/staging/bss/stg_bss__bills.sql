with

source as (
    select * from {{ source('raw', 'bss_bill') }}
),

deduplicated as (
    -- rows with the same business key count once; the latest delivery wins (later
    -- business day, then later load, then later record): it carries the latest state
    select distinct on (city_code, bill_month, product) *
    from source
    order by city_code asc, bill_month asc, product asc, _business_date desc nulls last, _load_id desc, _record_no desc
),

final as (
    select
        d.city_code,
        d.bill_month,
        d.product,
        d.billed_amount_fen,
        d.subscribers_in_service,
        d.lines_in_service,
        d._load_id as load_id
    from deduplicated as d
)

select * from final
