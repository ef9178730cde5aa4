with

source as (
    select * from {{ source('raw', 'crm_care') }}
),

deduplicated as (
    -- rows with the same business key count once; a later delivery wins
    select distinct on (contact_id) *
    from source
    order by contact_id, _load_id desc, _record_no desc
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
