with

source as (
    select * from {{ source('raw', 'crm_complaint') }}
),

deduplicated as (
    -- rows with the same business key count once; a later delivery wins
    select distinct on (complaint_id) *
    from source
    order by complaint_id, _load_id desc, _record_no desc
),

final as (
    select
        d.complaint_id,
        d.customer_id,
        {{ pseudonymise('d.phone') }} as phone_key,
        d.city_code,
        d.source,
        d.category,
        d.accept_time,
        d.first_response_time,
        d.close_time,
        d.result,
        d._load_id as load_id
    from deduplicated as d
    cross join {{ pseudonym_key_relation() }} as k
)

select * from final
