with

source as (
    select * from {{ source('raw', 'crm_care') }}
),

deduplicated as (
    -- rows with the same business key count once; the latest delivery wins (later
    -- business day, then later load, then later record): it carries the latest state
    select distinct on (contact_id) *
    from source
    order by contact_id asc, _business_date desc nulls last, _load_id desc, _record_no desc
),

final as (
    select
        d.contact_id,
        d.customer_id,
        d.contact_time,
        d.channel,
        d.campaign,
        d.outcome,
        d._load_id as load_id
    from deduplicated as d
)

select * from final
