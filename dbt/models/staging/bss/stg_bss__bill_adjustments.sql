with

source as (
    select * from {{ source('raw', 'bss_bill_adj') }}
),

deduplicated as (
    -- rows with the same business key count once; the latest delivery wins (later
    -- business day, then later load, then later record): it carries the latest state
    select distinct on (adj_id) *
    from source
    order by adj_id asc, _business_date desc nulls last, _load_id desc, _record_no desc
),

final as (
    select
        d.adj_id,
        {{ pseudonymise('d.subscriber_no') }} as subscriber_no_key,
        d.city_code,
        d.bill_month,
        d.amount_fen,
        d.reason,
        d.confirmed_time,
        d._load_id as load_id
    from deduplicated as d
    cross join {{ pseudonym_key_relation() }} as k
)

select * from final
